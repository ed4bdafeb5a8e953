# DINOv2 kNN evaluation of a frozen ViT-B/14 (facebookresearch/dinov2 dinov2/eval/knn.py, commit b8931f7): the
# ViT-S/14 config's protocol on a ViT-B/14.
_base_ = ['./vit-small-p14_knn_in1k.py']

model = dict(backbone=dict(arch='base'))
