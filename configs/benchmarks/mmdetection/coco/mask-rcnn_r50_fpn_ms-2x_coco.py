# Mask R-CNN R50-FPN 2x on COCO 2017: the 1x config (SyncBN, 4conv1fc box head, multi-scale 640-800) with
# 24 epochs, x0.1 at 16 and 22, and a 1,000-iteration warm-up, as mmselfsup 1.x
# configs/benchmarks/mmdetection/coco/mask-rcnn_r50_fpn_ms-2x_coco.py.
_base_ = 'mask-rcnn_r50_fpn_ms-1x_coco.py'

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=24, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1)
]
