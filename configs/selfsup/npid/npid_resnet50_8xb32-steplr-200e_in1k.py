# NPID (Wu et al. 2018), toolbox protocol: 8 GPUs x 32 images, 200 epochs, InfoNCE over 65,536 negatives.
# The paper's NCE loss: model.head.loss_type='nce', model.head.num_negatives=4096.
# Negatives are drawn from all bank entries (the toolbox default); npid-ensure-neg_*.py excludes the own entry.
_base_ = [
    '../../_base_/models/npid.py',
    '../../_base_/default_runtime.py',
]

data_root = 'data/imagenet/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0)),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    drop_last=True,  # as mmselfsup 1.x configs/selfsup/_base_/datasets/imagenet_npid.py
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageNet', data_root=data_root, ann_file='meta/train.txt',
                 data_prefix=dict(img_path='train/'), with_label=False, pipeline=train_pipeline))

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=200, milestones=[120, 160], gamma=0.1)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=200)

# The bank must have one entry per training image.
custom_hooks = [dict(type='MemoryBankSizeCheckHook')]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
auto_scale_lr = dict(base_batch_size=256)
