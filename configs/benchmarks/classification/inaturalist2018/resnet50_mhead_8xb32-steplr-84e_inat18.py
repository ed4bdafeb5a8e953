# Multi-head linear evaluation on iNaturalist 2018 (8,142 classes): 84 epochs, steps 24/48/72;
# RandomResizedCrop 224 + flip for training, resize 256 -> centre crop 224 for testing.
_base_ = [
    '../../../_base_/models/resnet50_multihead.py',
    '../../../_base_/datasets/imagenet_bs32.py',
    '../../../_base_/default_runtime.py',
]

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'iNaturalist2018'

model = dict(head=dict(num_classes=8142))

data_root = 'data/inat2018/'
train_dataloader = dict(
    dataset=dict(type='INaturalist2018', data_root=data_root, ann_file='train2018.json', data_prefix='',
                 with_label=True, _delete_=True, pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(type='INaturalist2018', data_root=data_root, ann_file='val2018.json', data_prefix='',
                 with_label=True, _delete_=True, pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=84, milestones=[24, 48, 72], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=84, val_interval=12)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=12, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=256)
