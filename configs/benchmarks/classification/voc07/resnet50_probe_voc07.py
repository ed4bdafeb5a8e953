# Cached-feature logistic-regression probe on VOC07 (multi-label): one-vs-rest binary logistic regression per class
# on globally average-pooled feature5 of a frozen ResNet-50 (L2-normalised), trained on trainval (difficult objects
# count as negatives, as the VOC07 SVM trains) and tested on test with all-point AP, difficult objects excluded.
# C over the 45-point grid of DINOv2 / ssl-transfer, chosen on a seeded held-out 20 % of trainval (stratified by
# each image's rarest positive class), refitted on all of trainval.
# python -m mmssl.benchmarks probe CONFIG CHECKPOINT [--device cuda]
# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC07'
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
probe = dict(taps=['feature5'], pooling='global', costs=dict(log10_start=-6, log10_stop=5, num=45),
             heldout=dict(size=0.2, seed=0), selection='heldout', refit=True, max_iter=1000, tol=1e-8,
             dtype='float64')

data_root = 'data/VOCdevkit/VOC2007/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=224, edge='short', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
# The probe trains on train_dataloader and reports on val_dataloader: VOC07 trainval and test.
train_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='VOC07Classification', data_root=data_root, split='trainval', pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='VOC07Classification', data_root=data_root, split='test', pipeline=test_pipeline))
