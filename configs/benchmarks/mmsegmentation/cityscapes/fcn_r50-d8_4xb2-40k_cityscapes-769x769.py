# FCN R50-D8 on Cityscapes fine (2,975 train images, 769x769 crops), mIoU on val (docs/en/benchmarks/detection_segmentation.md).
# Train: tools/benchmarks/mmsegmentation/train.py THIS_CONFIG PRETRAIN (PRETRAIN = full mmssl pre-training
# checkpoint). The launcher fills in `checkpoint=None` below; nothing here points at a download.
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb2-40k_cityscapes-769x769.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Cityscapes'
custom_imports = dict(imports=['mmssl.engine'], allow_failed_imports=False)

norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    # The base loads open-mmlab://resnet50_v1c through `pretrained`; the benchmark's checkpoint replaces it.
    pretrained=None,
    # mmseg's default ResNetV1c has a deep 3-conv stem (stem.0 ...) that a plain ResNet-50 checkpoint lacks;
    # the plain ResNet has torchvision's key names (conv1, bn1, layer1.0.conv1 ...) like mmssl's.
    backbone=dict(
        type='ResNet',
        deep_stem=False,
        norm_cfg=norm_cfg,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint=None, prefix='backbone.')),
    decode_head=dict(norm_cfg=norm_cfg),
    auxiliary_head=dict(norm_cfg=norm_cfg))

max_iters = 40000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=4000)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4), clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]

custom_hooks = [dict(type='mmssl.PretrainedWeightsCheckHook', modules=[dict(name='backbone')])]
