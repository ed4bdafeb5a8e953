# Faster R-CNN R50-C4 on VOC07+12 trainval, tested on VOC07 test (docs/en/benchmarks/detection_segmentation.md).
# Train: tools/benchmarks/mmdetection/train.py THIS_CONFIG PRETRAIN (PRETRAIN = full mmssl pre-training
# checkpoint). The launcher fills in both `checkpoint=None` below; nothing here points at a download.
_base_ = 'mmdet::pascal_voc/faster-rcnn_r50-caffe-c4_ms-18k_voc0712.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC07+12'
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

# The base's VOC2007 + VOC2012 ConcatDataset differs in metainfo['dataset_type']; mmengine refuses that unless
# told to ignore it. Training scales (short side 480-800 in steps of 32) are the base's.
train_dataloader = dict(dataset=dict(ignore_keys=['dataset_type']))

max_iters = 24000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', begin=0, end=max_iters, by_epoch=False, milestones=[18000, 22000], gamma=0.1)
]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02, momentum=0.9, weight_decay=1e-4))
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4000, max_keep_ckpts=2))

# VOC07 11-point mAP at IoU 0.5: logged as pascal_voc/mAP and pascal_voc/AP50.
val_evaluator = dict(type='VOCMetric', metric='mAP', eval_mode='11points', iou_thrs=[0.5])
test_evaluator = val_evaluator

custom_hooks = [
    dict(
        type='mmssl.PretrainedWeightsCheckHook',
        modules=[dict(name='backbone'), dict(name='roi_head.shared_head', new_keys=['norm.'])])
]
