# MoCo v3 linear evaluation of a frozen ViT-S/16 (facebookresearch/moco-v3 main_lincls.py, commit c349e6e, with
# CONFIG.md's ViT setting --lr 3): one Linear (init N(0, 0.01)) on the class token after the final LayerNorm
# (cls_last1, timm's pre-logits). SGD momentum 0.9, wd 0, lr 3 x 1024 / 256 = 12 at 8 x 128 images, cosine to 0
# over 90 epochs (per epoch). Augmentation: RandomResizedCrop 224 + flip; test: short side 256, centre crop 224
# (torchvision's default bilinear resize).
# MoCo v3's ViT-S has 12 attention heads (its vits.py), timm's 6: the weights fit either, the features differ, so
# the head count is set here.
_base_ = ['./vit-small-p16_linear-dino_8xb128-coslr-100e_in1k.py']

model = dict(backbone=dict(num_heads=12, out_taps=['cls_last1']))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=12.))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=90, eta_min=0., by_epoch=True, begin=0, end=90)]
train_cfg = dict(max_epochs=90)
