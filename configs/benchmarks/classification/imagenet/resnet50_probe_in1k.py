# Cached-feature logistic-regression probe on ImageNet: globally average-pooled feature5 of a frozen ResNet-50
# (L2-normalised), C over DINOv2's grid 10 ** linspace(-6, 5, 45), chosen on a seeded, class-balanced 10 % of train
# (DINOv2 log_regression.py: a random 10 %), refitted on all of train, reported on val (top-1 / top-5).
# Images: short side resized to 224 (bicubic), centre crop 224, as DINOv2's and ssl-transfer's probes.
# python -m mmssl.benchmarks probe CONFIG CHECKPOINT [--device cuda]
# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
probe = dict(taps=['feature5'], pooling='global', costs=dict(log10_start=-6, log10_stop=5, num=45),
             heldout=dict(size=0.1, seed=0), selection='heldout', refit=True, max_iter=1000, tol=1e-8,
             dtype='float64')

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
