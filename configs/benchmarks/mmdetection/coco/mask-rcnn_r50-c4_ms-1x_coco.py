# Mask R-CNN R50-C4 1x on COCO 2017 (the MoCo transfer protocol), box and mask mAP / AP50 / AP75
# (docs/en/benchmarks/detection_segmentation.md):
# mmselfsup 1.x configs/benchmarks/mmdetection/coco/mask-rcnn_r50-c4_ms-1x_coco.py on mmdet's
# mask-rcnn_r50-caffe-c4_1x_coco.py: SyncBN, norm_eval False, nothing frozen, pytorch-style ResNet-50 with
# res2-res4 in the backbone and res5 + an extra norm in the shared RoI head, multi-scale 640-800, 12 epochs.
# Train: tools/benchmarks/mmdetection/train.py THIS_CONFIG PRETRAIN (PRETRAIN = full mmssl pre-training
# checkpoint). The launcher fills in both `checkpoint=None` below (mmselfsup's mim_dist_train_c4.sh sets the same
# two init_cfgs); nothing here points at a download.
_base_ = 'mmdet::mask_rcnn/mask-rcnn_r50-caffe-c4_1x_coco.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'COCO'

custom_imports = dict(imports=['mmssl.engine', 'mmssl.models.utils.res_layer_extra_norm'], allow_failed_imports=False)

# res2-res4 (backbone) and res5 (shared head) both come from the checkpoint's `backbone.*` entries.
pretrained_init = dict(type='Pretrained', checkpoint=None, prefix='backbone.')
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    # mmssl networks are trained on RGB images normalised with ImageNet statistics, not caffe BGR.
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(
        style='pytorch', frozen_stages=-1, norm_cfg=norm_cfg, norm_eval=False, init_cfg=pretrained_init),
    roi_head=dict(
        shared_head=dict(
            type='ResLayerExtraNorm',
            style='pytorch',
            norm_cfg=norm_cfg,
            norm_eval=False,
            init_cfg=pretrained_init)))

# Multi-scale training: short side 640-800 in steps of 32.
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomChoiceResize', scales=[(1333, short) for short in range(640, 801, 32)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# mmdet's schedule_1x, written out: 12 epochs, x0.1 at 8 and 11, 500-iteration linear warm-up, SGD lr 0.02.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)
]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))

custom_hooks = [
    dict(
        type='mmssl.PretrainedWeightsCheckHook',
        modules=[dict(name='backbone'), dict(name='roi_head.shared_head', new_keys=['norm.'])])
]
