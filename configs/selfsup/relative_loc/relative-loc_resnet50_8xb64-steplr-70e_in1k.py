# Relative location (Doersch et al. 2015), toolbox protocol: 8 GPUs x 64 images, 70 epochs.
_base_ = [
    '../../_base_/models/relative-loc.py',
    '../../_base_/datasets/imagenet_relative-loc.py',
    '../../_base_/schedules/sgd_warmup-steplr-70e.py',
    '../../_base_/default_runtime.py',
]

train_dataloader = dict(batch_size=64)

# SGD lr 0.2 (from the schedule); weight decay 1e-4, 5e-4 on neck and head.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'neck': dict(decay_mult=5.0),
    'head': dict(decay_mult=5.0),
}))

default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))

# lr 0.2 is for 8 x 64 images; `--auto-scale-lr`-style scaling uses this reference.
auto_scale_lr = dict(base_batch_size=512)
