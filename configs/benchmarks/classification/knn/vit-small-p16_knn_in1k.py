# DINO kNN evaluation of a frozen ViT-S/16 (facebookresearch/dino eval_knn.py, commit 7c446df): the class token of
# the last block after the final LayerNorm (cls_last1, the model's forward), L2-normalised; cosine similarity to
# every training image, k in {10, 20, 100, 200} (its --nb_knn default), votes weighted by exp(similarity / 0.07).
# Images: short side 256 (bicubic), centre crop 224, ImageNet mean / std. DINOv2's knn.py (b8931f7) is the same
# protocol (softmax of the same weights: the same ranking).
# python -m mmssl.benchmarks knn CONFIG CHECKPOINT
_base_ = ['../../../_base_/models/vit-small-p16.py', '../../../_base_/datasets/imagenet_frozen-eval.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'
knn = dict(ks=(10, 20, 100, 200), temperature=0.07, tap='cls_last1')

# DINO's eval_knn.py resize: short side 256 (bicubic), then the base's centre crop 224.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
