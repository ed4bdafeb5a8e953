# DINOv2 linear evaluation of a frozen ViT-S/14 (facebookresearch/dinov2 dinov2/eval/linear.py, commit b8931f7):
# 52 Linear heads (init N(0, 0.01), no norm) trained together on one frozen forward, one per tap x lr:
# class tokens of the last 1 or 4 blocks (after the final LayerNorm), with or without the mean of the last block's
# patch tokens (cls_last1, cls_last4, cls_last1_mean, cls_last4_mean) x 13 lrs 1e-5 ... 0.1, each x 1024 / 256.
# SGD momentum 0.9, wd 0, 8 x 128 images, 12,500 iterations (10 x 1250), cosine to 0 per iteration.
# Augmentation: RandomResizedCrop 224 (bicubic) + flip; test: short side 256 (bicubic), centre crop 224.
# DINOv2 picks the best of the 52 heads on ImageNet val, the split it reports; here each tap's lr is chosen on a
# held-out 10 % of train and refitted on all of train (docs/en/benchmarks/differences.md, "Vision Transformers").
# The hub checkpoints hold a 37 x 37 position grid (518 px): img_size 518, interpolated to the input.
_base_ = ['./vit-small-p16_linear-dino_8xb128-coslr-100e_in1k.py']

# Multipliers of lr 0.004 (DINOv2's 1e-3 x 1024 / 256): its 13 rates 1e-5, 2e-5, 5e-5 ... 0.1.
lr_grid = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100]
model = dict(
    backbone=dict(patch_size=14, img_size=518, layer_scale_init_value=1e-5,
                  out_taps=['cls_last1', 'cls_last4', 'cls_last1_mean', 'cls_last4_mean']),
    head=dict(lr_grid=lr_grid))
# The grid heads' parameter groups, as the base config writes them for its grid (a superset of its keys).
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    f'@lrx{m:g}.'.replace('.', '_', 1) if m < 1 else f'@lrx{m:g}.': dict(lr_mult=m) for m in lr_grid if m != 1}))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

param_scheduler = [dict(type='CosineAnnealingLR', T_max=12500, eta_min=0., by_epoch=False, begin=0, end=12500)]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=12500, val_interval=1250)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1250, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
