# Cached-feature logistic-regression probe on ImageNet of a frozen ViT-S/16, on the features of the DINO protocols:
# the last class token (cls_last1, DINO's kNN feature) and the class tokens of the last 4 blocks (cls_last4, DINO's
# ViT-S linear feature), each after the final LayerNorm, L2-normalised. C over DINOv2's grid
# 10 ** linspace(-6, 5, 45), chosen on a seeded, class-balanced 10 % of train (DINOv2 log_regression.py: a random
# 10 %), refitted on all of train, reported on val (top-1 / top-5). Images: short side 224 (bicubic), centre 224.
# python -m mmssl.benchmarks probe CONFIG CHECKPOINT [--device cuda]
_base_ = ['../../../_base_/models/vit-small-p16.py', '../../../_base_/datasets/imagenet_frozen-eval.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'
probe = dict(taps=['cls_last1', 'cls_last4'], pooling='global', costs=dict(log10_start=-6, log10_stop=5, num=45),
             heldout=dict(size=0.1, seed=0), selection='heldout', refit=True, max_iter=1000, tol=1e-8,
             dtype='float64')

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
