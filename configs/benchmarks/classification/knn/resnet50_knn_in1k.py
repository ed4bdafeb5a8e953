# kNN evaluation on ImageNet: global-average-pooled feature5 of a frozen ResNet-50, cosine similarity,
# k in {10, 20, 100, 200}, votes weighted by exp(similarity / 0.07). Neighbours: the training set.
# python tools/benchmarks/classification/knn.py CONFIG CHECKPOINT
# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor'))
knn = dict(ks=(10, 20, 100, 200), temperature=0.07)

data_root = 'data/imagenet/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
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
