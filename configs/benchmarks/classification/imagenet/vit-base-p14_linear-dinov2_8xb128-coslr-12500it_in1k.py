# DINOv2 linear evaluation of a frozen ViT-B/14 (facebookresearch/dinov2 dinov2/eval/linear.py, commit b8931f7):
# the 4 taps x 13 lrs of the ViT-S/14 config on a ViT-B/14 (768 features per token).
_base_ = ['./vit-small-p14_linear-dinov2_8xb128-coslr-12500it_in1k.py']

model = dict(backbone=dict(arch='base'))
