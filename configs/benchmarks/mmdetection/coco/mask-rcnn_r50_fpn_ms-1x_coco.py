# Mask R-CNN R50-FPN 1x on COCO 2017, box and mask mAP / AP50 / AP75 (docs/en/benchmarks/detection_segmentation.md).
# Train: tools/benchmarks/mmdetection/train.py THIS_CONFIG PRETRAIN (PRETRAIN = full mmssl pre-training
# checkpoint). The launcher fills in `checkpoint=None` below; nothing here points at a download.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'COCO'
custom_imports = dict(imports=['mmssl.engine'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    backbone=dict(
        frozen_stages=-1,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.')),
    neck=dict(norm_cfg=norm_cfg),
    roi_head=dict(
        # 4conv1fc box head with normalisation, as in the self-supervised transfer protocol.
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

# Multi-scale training: short side 640-800 in steps of 32.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=[(1333, short) for short in range(640, 801, 32)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)
]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))

custom_hooks = [dict(type='mmssl.PretrainedWeightsCheckHook', modules=[dict(name='backbone')])]
