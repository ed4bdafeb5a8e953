# Multi-head linear evaluation on ImageNet: SGD lr 0.01 nesterov, wd 1e-4, 8 x 32 images, 90 epochs, steps 30/60.
# Give the pre-trained backbone with tools/benchmarks/classification/linear_eval.sh CONFIG PRETRAIN GPUS.
_base_ = [
    '../../../_base_/models/resnet50_multihead.py',
    '../../../_base_/datasets/imagenet_bs32.py',
    '../../../_base_/default_runtime.py',
]

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'

# Training augmentation of mmselfsup 0.x configs/benchmarks/classification/imagenet/
# resnet50_mhead_linear-8xb32-steplr-90e_in1k.py (1.x and the FAIR benchmark use the same):
# RandomResizedCrop 224 + flip + ColorJitter(0.4, 0.4, 0.4, hue 0) + AlexNet PCA Lighting (alphastd 0.1).
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.),
    dict(type='Lighting', alphastd=0.1),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=90, milestones=[30, 60], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=90, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=256)
