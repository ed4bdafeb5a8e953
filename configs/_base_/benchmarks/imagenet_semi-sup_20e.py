# Semi-supervised ImageNet (1% / 10% labels): full fine-tuning of ResNet-50 + a linear head on the pooled feature5,
# 8 x 32 images, 20 epochs, lr x0.2 at epochs 12 and 16, deterministic. The grid configs set the subset list,
# the backbone lr, the head lr multiplier and the weight decay.
_base_ = [
    '../datasets/imagenet_bs32.py',
    '../default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    frozen_backbone=False,
    backbone=dict(type='ResNet', depth=50, out_indices=[4], norm_cfg=dict(type='SyncBN')),
    head=dict(type='ClsHead', in_channels=2048, num_classes=1000, with_avg_pool=True,
              init_cfg=dict(type='Normal', std=0.01, layer='Linear')))

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, begin=0, end=20, milestones=[12, 16], gamma=0.2)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=4)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=4, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=True)
auto_scale_lr = dict(base_batch_size=256)
