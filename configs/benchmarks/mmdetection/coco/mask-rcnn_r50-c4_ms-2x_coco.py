# Mask R-CNN R50-C4 2x on COCO 2017 (the MoCo transfer protocol): the 1x config with 24 epochs, x0.1 at 16 and 22,
# and a 1,000-iteration warm-up, the schedule mmselfsup 1.x configs/benchmarks/mmdetection/coco/
# mask-rcnn_r50-c4_ms-2x_coco.py writes out. (That file then sets train_cfg back to 12 epochs in its last lines,
# so it trains 1x without ever reaching the steps; mmssl trains the 24 epochs its name and schedule describe:
# docs/en/benchmarks/differences.md.)
_base_ = 'mask-rcnn_r50-c4_ms-1x_coco.py'

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=24, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type='MultiStepLR', begin=0, end=24, by_epoch=True, milestones=[16, 22], gamma=0.1)
]
