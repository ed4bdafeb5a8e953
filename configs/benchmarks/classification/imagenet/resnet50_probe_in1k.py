# Cached-feature logistic-regression probe on ImageNet: globally average-pooled feature5 of a frozen ResNet-50
# (L2-normalised), C over DINOv2's grid 10 ** linspace(-6, 5, 45), chosen on a seeded, class-balanced 10 % of train
# (DINOv2 log_regression.py: a random 10 %), refitted on all of train, reported on val (top-1 / top-5).
# Images: _base_/datasets/imagenet_frozen-eval.py (short side 224 bicubic, centre crop 224).
# python -m mmssl.benchmarks probe CONFIG CHECKPOINT [--device cuda]
_base_ = ['../../../_base_/datasets/imagenet_frozen-eval.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
probe = dict(taps=['feature5'], pooling='global', costs=dict(log10_start=-6, log10_stop=5, num=45),
             heldout=dict(size=0.1, seed=0), selection='heldout', refit=True, max_iter=1000, tol=1e-8,
             dtype='float64')
