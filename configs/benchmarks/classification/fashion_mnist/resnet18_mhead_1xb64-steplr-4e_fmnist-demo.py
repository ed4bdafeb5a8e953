# CPU demo of the multi-head linear evaluation (feature1-5 + avgpool) on real Fashion-MNIST photos.
# Same recipe as the ImageNet protocol (frozen backbone, BN without affine, SGD lr 0.01 nesterov, wd 1e-4), at the
# demo's scale: ResNet-18, 28-px photos upscaled to 112 px (the scale relative-location pre-training saw), adaptive
# pooling to the protocol's output sizes (12/6/4/3/2), 4 epochs.
_base_ = ['../../../_base_/datasets/fashion-mnist_demo.py', '../../../_base_/default_runtime.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Fashion-MNIST'
model = dict(
    type='ImageClassifier',
    frozen_backbone=True,
    backbone=dict(type='ResNet', depth=18, out_indices=[0, 1, 2, 3, 4], norm_cfg=dict(type='BN')),
    # The head's taps (feature1-5 of the ResNet-18) are the backbone's out_taps, passed by ImageClassifier.
    head=dict(type='MultiClsHead', num_classes=10, pool_type='adaptive', with_avgpool_head=True))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=112, edge='short'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=112, edge='short'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=64, dataset=dict(with_label=True, pipeline=train_pipeline))
val_dataloader = dict(batch_size=128, dataset=dict(with_label=True, pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=4, milestones=[3], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=4, val_interval=4)
val_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', interval=4, max_keep_ckpts=1))
