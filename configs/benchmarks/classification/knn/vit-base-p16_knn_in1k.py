# DINO kNN evaluation of a frozen ViT-B/16 (facebookresearch/dino eval_knn.py, commit 7c446df): the ViT-S/16
# config's protocol (cls_last1, L2-normalised, k 10/20/100/200, T 0.07) on a ViT-B/16.
_base_ = ['./vit-small-p16_knn_in1k.py']

model = dict(backbone=dict(arch='base'))
