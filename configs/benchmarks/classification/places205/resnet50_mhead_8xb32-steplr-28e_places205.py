# Multi-head linear evaluation on Places205: 28 epochs, steps 7/14/21; resize 256 -> centre crop 256 ->
# random crop 224 (+ flip) for training, resize 256 -> centre crop 224 for testing.
_base_ = [
    '../../../_base_/models/resnet50_multihead.py',
    '../../../_base_/default_runtime.py',
]

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Places205'

model = dict(head=dict(num_classes=205))

dataset_type = 'Places205'
data_root = 'data/places205/'
image_prefix = dict(img_path='data/vision/torralba/deeplearning/images256/')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='RandomCrop', crop_size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='trainvalsplit_places205/train_places205.csv',
                 data_prefix=image_prefix, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, ann_file='trainvalsplit_places205/val_places205.csv',
                 data_prefix=image_prefix, pipeline=test_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, 5))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=28, milestones=[7, 14, 21], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=28, val_interval=4)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=4, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=256)
