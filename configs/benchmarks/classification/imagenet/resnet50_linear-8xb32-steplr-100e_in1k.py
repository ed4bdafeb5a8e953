# Linear evaluation of the global-average-pooled feature5 on ImageNet: SGD lr 30, wd 0, 8 x 32 images,
# 100 epochs, steps 60/80.
_base_ = [
    '../../../_base_/datasets/imagenet_bs32.py',
    '../../../_base_/default_runtime.py',
]

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'

model = dict(
    type='ImageClassifier',
    frozen_backbone=True,
    backbone=dict(type='ResNet', depth=50, out_indices=[4], norm_cfg=dict(type='BN')),
    head=dict(type='ClsHead', in_channels=2048, num_classes=1000, with_avg_pool=True,
              init_cfg=dict(type='Normal', std=0.01, layer='Linear')))

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=30., momentum=0.9, weight_decay=0.))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=100, milestones=[60, 80], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=256)
