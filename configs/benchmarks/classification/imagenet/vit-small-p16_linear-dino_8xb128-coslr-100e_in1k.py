# DINO linear evaluation of a frozen ViT-S/16 (facebookresearch/dino eval_linear.py, commit 7c446df): one Linear
# (init N(0, 0.01), no norm) on the class tokens of the last 4 blocks, each after the final LayerNorm, concatenated
# (cls_last4, 4 x 384 = 1536 features; DINO's default n_last_blocks=4, avgpool_patchtokens=False for ViT-S).
# SGD momentum 0.9, wd 0, lr 0.001 x 1024 / 256 = 0.004 at 8 x 128 images, cosine to 0 over 100 epochs (per epoch).
# Augmentation: RandomResizedCrop 224 + flip; test: short side 256 (bicubic), centre crop 224.
# The lr grid (0.1x-10x, one frozen forward) is chosen per tap on a held-out 10 % of train, then refitted on all
# of train; the plain cls_last4 head is DINO's fixed lr (docs/en/benchmarks/differences.md, "Vision Transformers").
# python -m mmssl.benchmarks linear CONFIG CHECKPOINT
_base_ = [
    '../../../_base_/models/vit-small-p16.py',
    '../../../_base_/datasets/imagenet_bs32.py',
    '../../../_base_/default_runtime.py',
]

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k'

lr_grid = [0.1, 0.2, 0.5, 1, 2, 5, 10]
model = dict(
    type='ImageClassifier',
    frozen_backbone=True,
    backbone=dict(out_taps=['cls_last4']),
    head=dict(type='MultiClsHead', num_classes=1000, pool_type='global', with_avgpool_head=False, norm_cfg=None,
              lr_grid=lr_grid))
linear_selection = dict(heldout=dict(size=0.1, seed=0), selection='heldout', refit=True)

# Training augmentation: the base's (RandomResizedCrop 224 + flip); the test resize is bicubic, as DINO's.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.004, momentum=0.9, weight_decay=0.),
    # Each grid head's parameters in their own groups at their lr (mmssl.models.heads.multi_cls_head.
    # lr_grid_custom_keys; the linear benchmark checks them), so that a plain Runner trains the grid too.
    paramwise_cfg=dict(custom_keys={f'@lrx{m:g}.'.replace('.', '_', 1) if m < 1 else f'@lrx{m:g}.': dict(lr_mult=m)
                                    for m in lr_grid if m != 1}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=100, eta_min=0., by_epoch=True, begin=0, end=100)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
# lr 0.004 is DINO's 0.001 scaled to the 1024 images of 8 x 128 (--auto-scale-lr rescales to the actual batch).
auto_scale_lr = dict(base_batch_size=1024)
