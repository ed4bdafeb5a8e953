# CPU demo of NPID on real Fashion-MNIST photos (1,000 training images from the converter's defaults) at 32 px,
# so that 1,500 iterations (~100 epochs) fit in about 13 minutes on 2 CPU cores.
# Data: python tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist
_base_ = [
    '../../_base_/models/npid.py',
    '../../_base_/datasets/fashion-mnist_demo.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # 256 negatives from a 1,000-entry bank: drawn from all entries (the toolbox default), the own entry would be a
    # "negative" a quarter of the time, so the demo excludes it as the toolbox's npid-ensure-neg config does.
    ensure_neg=True,
    backbone=dict(depth=18, norm_cfg=dict(type='BN')),
    neck=dict(in_channels=512),
    # Far fewer negatives than the 1,000 bank entries, so that one draw rarely repeats an instance.
    head=dict(num_negatives=256),
    memory_bank=dict(length=1000))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=32, edge='short'),
    dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, drop_last=True, dataset=dict(pipeline=train_pipeline))
val_dataloader = None

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, begin=0, end=1500, milestones=[1100, 1400], gamma=0.1)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1500)

custom_hooks = [dict(type='MemoryBankSizeCheckHook')]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
