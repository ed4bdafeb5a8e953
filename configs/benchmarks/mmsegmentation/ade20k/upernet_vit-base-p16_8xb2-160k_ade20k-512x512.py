# UperNet with a ViT-B/16 backbone on ADE20K (150 classes), mIoU on its 2,000 validation images: mmseg 1.2.2's MAE
# protocol (configs/mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py; its metafile: 48.13 mIoU for MAE ViT-B/16):
# mmseg's MAE backbone (a BEiT: zero-initialised relative position bias, layer scale at 1.0, drop path 0.1, blocks
# 4 / 6 / 8 / 12 into a Feature2Pyramid neck), AdamW lr 1e-4, wd 0.05, layer-wise lr decay 0.65 over the 12 blocks
# (LayerDecayOptimizerConstructor), 1,500 warm-up iterations then poly decay to 160k, 8 x 2 crops of 512 x 512,
# sliding-window test (512, stride 341) (docs/en/benchmarks/detection_segmentation.md).
# Train: tools/benchmarks/mmsegmentation/train.py THIS_CONFIG PRETRAIN, where PRETRAIN is a ViT-B/16 checkpoint of
# any layout mmssl reads (DINO, MoCo v3, MAE, iBOT, timm ...): the launcher renames the backbone the loader read to
# mmseg's names, checks it against this backbone and fills in `checkpoint=None` below. Nothing here downloads.
_base_ = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ADE20K'
custom_imports = dict(imports=['mmssl.engine'], allow_failed_imports=False)

num_layers = 12
model = dict(
    # The base loads ./pretrain/mae_pretrain_vit_base_mmcls.pth through `pretrained`; the benchmark's file replaces it.
    pretrained=None,
    # mmseg's MAE loads the file itself, unprefixed (it ignores init_cfg.prefix).
    backbone=dict(num_layers=num_layers, init_cfg=dict(type='Pretrained', checkpoint=None, prefix='')))

# mmseg's own initialisation of what a ViT lacks (layer scale at 1.0, zero relative position bias) is not compared.
custom_hooks = [dict(type='mmssl.PretrainedWeightsCheckHook', modules=[dict(
    name='backbone',
    new_keys=[f'layers.{i}.{name}' for i in range(num_layers) for name in ('gamma_', 'attn.relative_position_')])])]
