"""Runs for engine and tool tests: a tiny training config and another process holding a work-dir lock."""
import contextlib
import os
import subprocess
import sys
from typing import Iterator

from builders import REPO_ROOT


@contextlib.contextmanager
def hold_work_dir_lock(work_dir) -> Iterator[subprocess.Popen]:
    """Another process (``python -c ... HOLDER-MARK``) holding the lock of ``work_dir`` for the ``with`` block."""
    code = ('import sys; from mmssl.utils.work_dir_lock import work_dir_lock\n'
            'with work_dir_lock(sys.argv[1]):\n    print("locked", flush=True); sys.stdin.read()')
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    holder = subprocess.Popen([sys.executable, '-c', code, str(work_dir), 'HOLDER-MARK'], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == 'locked', 'the lock holder did not start'
        yield holder
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)


def tiny_train_config(data: dict, work_dir, max_iters: int = 4, interval: int = 2, **overrides):
    """An mmengine config that fine-tunes a ResNet-18 classifier on ``data`` (a :func:`make_imagenet` result) for
    ``max_iters`` iterations of 2 images, saving ``iter_N.pth`` every ``interval``; no validation. Trains in
    about a second per iteration on one core."""
    from mmengine.config import Config
    cfg = dict(
        default_scope='mmssl',
        work_dir=str(work_dir),
        model=dict(type='ImageClassifier', frozen_backbone=False,
                   backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
                   head=dict(type='ClsHead', in_channels=512, num_classes=len(data['classes']), with_avg_pool=True)),
        train_dataloader=dict(
            batch_size=2, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=False),
            dataset=dict(type='ImageList', **data['train'], with_label=True,
                         pipeline=[dict(type='LoadImageFromFile'), dict(type='PackInputs')])),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters),
        optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=interval,
                                           max_keep_ckpts=10),
                           logger=dict(type='LoggerHook', interval=1)),
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        launcher='none',
        load_from=None,
        resume=False)
    cfg.update(overrides)
    return Config(cfg)
