# MoCo v3 linear evaluation of a frozen ViT-B/16 (facebookresearch/moco-v3 main_lincls.py, commit c349e6e,
# CONFIG.md: -a vit_base --lr 3): the class token after the final LayerNorm, SGD 0.9, wd 0, lr 12 at 8 x 128,
# cosine over 90 epochs, as the ViT-S/16 config. MoCo v3's ViT-B has timm's 12 heads.
_base_ = ['./vit-small-p16_linear-mocov3_8xb128-coslr-90e_in1k.py']

model = dict(backbone=dict(arch='base', num_heads=12))
