# MAE linear probing of a frozen ViT-B/16 (facebookresearch/mae main_linprobe.py, commit efb2a80, as FINETUNE.md
# runs it: --cls_token --batch_size 512 on 4 nodes x 8 GPUs --epochs 90 --blr 0.1 --weight_decay 0.0): the class
# token after the final LayerNorm (cls_last1) -> BatchNorm without affine (eps 1e-6, per-GPU statistics as MAE's
# BatchNorm1d under DDP) -> Linear (init N(0, 0.01)). LARS (MAE util/lars.py; mmssl.engine.optimizers.LARS), wd 0,
# lr 0.1 x 16384 / 256 = 6.4; 10 warm-up epochs from 0, then a half-cycle cosine to 0 at epoch 90, both updated
# every iteration. Augmentation: RandomResizedCrop 224 (bicubic) + flip; test: short side 256 (bicubic), centre
# crop 224. MAE releases no ViT-S, so this protocol ships for ViT-B/16 only.
_base_ = ['./vit-small-p16_linear-dino_8xb128-coslr-100e_in1k.py']

model = dict(backbone=dict(arch='base', out_taps=['cls_last1']),
             head=dict(norm_cfg=dict(_delete_=True, type='BN', momentum=0.1, eps=1e-6, affine=False)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=224, interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=512, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(_delete_=True, type='LARS', lr=6.4, weight_decay=0., momentum=0.9, trust_coefficient=0.001))
# MAE's warm-up starts at lr 0; LinearLR needs a positive start factor, 1e-9 of the peak.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-9, end_factor=1., by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=80, eta_min=0., by_epoch=True, begin=10, end=90, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=90)
# lr 6.4 is MAE's base lr 0.1 scaled to 32 x 512 = 16384 images (--auto-scale-lr rescales to the actual batch).
auto_scale_lr = dict(base_batch_size=16384)
