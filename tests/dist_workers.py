"""Model builders and worker functions for multi-process tests.

torch.multiprocessing pickles workers by module name, so they live in this importable module (``pythonpath =
tests``) rather than in test files, which pytest imports under generated names.
"""
import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper

from mmssl.registry import MODELS
from mmssl.structures import DataSample
from mmssl.utils import register_all_modules


def npid_cfg(loss_type='infonce', length=16, negatives=8):
    return dict(type='NPID',
                backbone=dict(type='ResNet', depth=18, out_indices=[4]),
                neck=dict(type='LinearNeck', in_channels=512, out_channels=16),
                head=dict(type='NPIDHead', loss_type=loss_type, num_negatives=negatives),
                memory_bank=dict(type='SimpleMemory', length=length, feat_dim=16, momentum=0.5))


def batch(indices, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return dict(inputs=[torch.randint(0, 255, (3, 32, 32), dtype=torch.uint8, generator=generator)
                        for _ in indices],
                data_samples=[DataSample(metainfo=dict(sample_idx=i)) for i in indices])


def npid_two_rank_worker(rank, init_file, results):
    """Three NPID steps on rank-specific data in a 2-process gloo group; stores the rank's final bank."""
    register_all_modules()
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    torch.manual_seed(rank)  # different negatives and data on each rank
    model = MODELS.build(npid_cfg())
    torch.manual_seed(0)
    model.memory_bank.feature_bank.copy_(F.normalize(torch.randn(16, 16), dim=1))  # same start on both ranks
    wrapped = MMDistributedDataParallel(model, device_ids=None, broadcast_buffers=False)
    optim = build_optim_wrapper(wrapped, dict(optimizer=dict(type='SGD', lr=0.01)))
    for step in range(3):
        indices = [4 * step + 2 * rank, 4 * step + 2 * rank + 1]
        wrapped.train_step(batch(indices, seed=10 * step + rank), optim)
    results[rank] = model.memory_bank.feature_bank.clone()
    dist.destroy_process_group()
