"""Distributed training on machines without CUDA.

mmengine's ``launcher='pytorch'`` calls ``torch.cuda.set_device`` and wraps models with ``device_ids=[rank]``,
both of which fail on a CPU-only machine. There we open a gloo process group ourselves (the Runner then skips its
own ``init_dist``), wrap without device ids, and turn SyncBN (CUDA-only) into plain BN.
"""
import os
import sys

import torch
import torch.distributed as dist
from mmengine.config import Config

SYNC_BN_TYPES = ('SyncBN', 'MMSyncBN', 'nn.SyncBatchNorm', 'SyncBatchNorm')


def convert_sync_bn_cfg(cfg):
    """Return ``cfg`` (dict/list tree) with every SyncBN norm type replaced by ``BN``, in place."""
    if isinstance(cfg, dict):
        if cfg.get('type') in SYNC_BN_TYPES:
            cfg['type'] = 'BN'
        for value in cfg.values():
            convert_sync_bn_cfg(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            convert_sync_bn_cfg(value)
    return cfg


def prepare_cpu_launch(cfg: Config, launcher: str) -> Config:
    """Adapt ``cfg`` for a machine without CUDA; opens the gloo process group for ``launcher='pytorch'``.

    Does nothing when CUDA is available. Returns ``cfg`` for chaining.
    """
    if torch.cuda.is_available():
        return cfg
    convert_sync_bn_cfg(cfg.model)
    if launcher == 'none':
        return cfg
    if launcher != 'pytorch':
        raise RuntimeError(f"launcher '{launcher}' needs CUDA; on a CPU-only machine use --launcher pytorch "
                           '(dist_train.sh)')
    if not dist.is_initialized():
        for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
            if key not in os.environ:
                raise RuntimeError(f'--launcher pytorch expects ${key} from torchrun (start it with torchrun, e.g. '
                                   'dist_train.sh)')
        dist.init_process_group(backend='gloo')
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
    return cfg


def teardown_distributed() -> None:
    """Close the default process group if one is open (torch warns about leaked groups otherwise).

    Meant for a ``finally`` block. When no exception is on its way, every rank first waits at a barrier: a rank that
    closes its gloo connections while a peer is still finishing can abort that peer ("terminate called without an
    active exception"), so no rank closes before all are done. After an exception there is no barrier: the other
    ranks may never reach it.
    """
    if dist.is_available() and dist.is_initialized():
        if sys.exc_info()[0] is None:
            dist.barrier()
        dist.destroy_process_group()


def init_distributed(cfg: Config, launcher: str) -> str:
    """Open the process group for tools that run without a Runner (extraction, kNN); returns their device.

    With CUDA, mmengine's ``init_dist`` (NCCL, one GPU per process); without, :func:`prepare_cpu_launch`.
    """
    if torch.cuda.is_available():
        if launcher != 'none':
            from mmengine.dist import init_dist
            init_dist(launcher)
        return f'cuda:{torch.cuda.current_device()}'
    prepare_cpu_launch(cfg, launcher)
    return 'cpu'
