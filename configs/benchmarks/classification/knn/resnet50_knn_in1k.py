# kNN evaluation on ImageNet: global-average-pooled feature5 of a frozen ResNet-50, cosine similarity,
# k in {10, 20, 100, 200}, votes weighted by exp(similarity / 0.07). Neighbours: the training set.
# python tools/benchmarks/classification/knn.py CONFIG CHECKPOINT
_base_ = ['../../../_base_/datasets/imagenet_frozen-eval.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor'))
knn = dict(ks=(10, 20, 100, 200), temperature=0.07)

# Short side 256 (bilinear), centre crop 224.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
