# Relative location with the mmselfsup 0.x pipeline where it differs from 1.x (the default config follows 1.x):
# 0.x configs/selfsup/_base_/datasets/imagenet_relative-loc.py and mmselfsup/datasets/relative_loc.py.
# - torchvision Resize(292): the short side becomes 292, aspect ratio kept;
# - torchvision RandomGrayscale(p=0.66) on PIL images: ITU-R 601 luma 0.299 R + 0.587 G + 0.114 B (mmcv loads BGR,
#   so the weights are given in B, G, R order);
# - exact 85-px cells (TF.crop), labels in row-major order (``patches[i] for i in range(9) if i != 4``);
# - ToTensor + Normalize with the ImageNet mean / std (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225).
# Schedule, network and pair order (neighbour || centre) are the same in 0.x and 1.x.
_base_ = 'relative-loc_resnet50_8xb64-steplr-70e_in1k.py'

model = dict(
    label_layout='row_major',
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))

patch_cfg = dict(type='RelativeLocPatches', patch_size=64, cell_size=85, inclusive_cell_end=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=292, edge='short'),
    dict(type='RandomCrop', crop_size=255),
    dict(type='RandomGrayscale', prob=0.66, keep_channels=True, channel_weights=(0.114, 0.587, 0.299)),
    patch_cfg,
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=292, edge='short'),
    dict(type='CenterCrop', crop_size=255),
    patch_cfg,
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
