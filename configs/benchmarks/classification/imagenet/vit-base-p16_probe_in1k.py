# Cached-feature logistic-regression probe on ImageNet of a frozen ViT-B/16, on the features of the DINO protocols:
# the last class token (cls_last1, DINO's kNN feature) and that token with the mean of the last block's patch
# tokens (cls_last1_mean, DINO's ViT-B linear feature), after the final LayerNorm, L2-normalised; the grid,
# held-out choice and refit of the ViT-S/16 config.
_base_ = ['./vit-small-p16_probe_in1k.py']

model = dict(backbone=dict(arch='base'))
probe = dict(taps=['cls_last1', 'cls_last1_mean'])
