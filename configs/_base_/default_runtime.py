default_scope = 'mmssl'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # On machines without CUDA, tools/train.py opens a gloo group instead (mmssl.utils.prepare_cpu_launch).
    dist_cfg=dict(backend='nccl'),
)

log_processor = dict(window_size=10, by_epoch=True)

vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False

# Seeded by default so that numbers are repeatable; set seed=None for a random seed (it is logged).
randomness = dict(seed=0, diff_rank_seed=True, deterministic=False)
