# CPU demo of relative-location pre-training on real Fashion-MNIST photos (a few minutes on 2 cores).
# Data: python tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist
# The 28-px photos are upscaled x3 so that a 3x3 grid of 27-px cells with 24-px patches fits.
_base_ = [
    '../../_base_/models/relative-loc.py',
    '../../_base_/datasets/fashion-mnist_demo.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    backbone_mode='dedup',
    backbone=dict(depth=18, norm_cfg=dict(type='BN')),
    neck=dict(in_channels=512, out_channels=512),
    head=dict(in_channels=512))

patch_cfg = dict(type='RelativeLocPatches', patch_size=24, cell_size=27)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=84, edge='short'),
    dict(type='RandomCrop', crop_size=81),
    patch_cfg,
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=84, edge='short'),
    dict(type='CenterCrop', crop_size=81),
    patch_cfg,
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={
        'neck': dict(decay_mult=5.0),
        'head': dict(decay_mult=5.0),
    }))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=30),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=300, milestones=[200, 260], gamma=0.1),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300, val_interval=100)
val_cfg = dict()

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
