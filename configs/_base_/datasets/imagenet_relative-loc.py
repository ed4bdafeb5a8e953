# ImageNet images, labels unused: 8-way patch-position pairs are the targets.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=292, edge='short'),
    dict(type='RandomCrop', crop_size=255),
    # mmcv loads BGR, so the luma weights are in B, G, R order.
    dict(type='RandomGrayscale', prob=0.66, keep_channels=True, channel_weights=(0.114, 0.587, 0.2989)),
    dict(type='RelativeLocPatches', patch_size=64, cell_size=85),
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=292, edge='short'),
    dict(type='CenterCrop', crop_size=255),
    dict(type='RelativeLocPatches', patch_size=64, cell_size=85),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        with_label=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/val.txt',
        data_prefix=dict(img_path='val/'),
        with_label=False,
        pipeline=val_pipeline))
# Patch-position accuracy of the 8 pairs of every held-out image.
val_evaluator = dict(type='Accuracy', topk=(1, ))
