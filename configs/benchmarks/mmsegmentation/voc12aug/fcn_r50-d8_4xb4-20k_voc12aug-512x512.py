# FCN R50-D8 on PASCAL VOC 2012 + SBD ("aug", 10,582 training images), mIoU on VOC12 val (docs/en/benchmarks/detection_segmentation.md).
# Train: tools/benchmarks/mmsegmentation/train.py THIS_CONFIG PRETRAIN (PRETRAIN = full mmssl pre-training
# checkpoint). The launcher fills in `checkpoint=None` below; nothing here points at a download.
_base_ = 'mmseg::fcn/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC12aug'
custom_imports = dict(imports=['mmssl.engine', 'mmssl.datasets.voc12aug'], allow_failed_imports=False)

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

# One list of the 10,582 "trainaug" images (VOC12 train + SBD, minus VOC12 val) with the SegmentationClassAug
# label maps: trainaug.txt as mmseg's tools/dataset_converters/voc_aug.py writes it. (Its aug.txt holds only the
# 9,118 SBD images outside VOC12 train and val; mmssl.VOC12AugDataset refuses that list.)
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='mmssl.VOC12AugDataset',
        data_root='data/VOCdevkit/VOC2012',
        data_prefix=dict(img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
        ann_file='ImageSets/Segmentation/trainaug.txt',
        pipeline={{_base_.train_pipeline}}))

max_iters = 20000
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4), clip_grad=None)
param_scheduler = [dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=max_iters, by_epoch=False)]

custom_hooks = [dict(type='mmssl.PretrainedWeightsCheckHook', modules=[dict(name='backbone')])]
