# ImageNet as the frozen-feature benchmarks read it (kNN, cached-feature probe): labelled train and val lists, one
# test pipeline, no augmentation. Images: short side resized to 224 (bicubic), centre crop 224, as DINOv2's and
# ssl-transfer's probes; the kNN configs override the resize (DINO's short side 256).
data_root = 'data/imagenet/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=224, edge='short', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=64, num_workers=8,
    dataset=dict(type='ImageNet', data_root=data_root, ann_file='meta/train.txt', data_prefix=dict(img_path='train/'),
                 pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=64, num_workers=8,
    dataset=dict(type='ImageNet', data_root=data_root, ann_file='meta/val.txt', data_prefix=dict(img_path='val/'),
                 pipeline=test_pipeline))
