# ImageNet images, labels unused: 8-way patch-position pairs are the targets.
# Training pipeline of mmselfsup 1.x configs/selfsup/_base_/datasets/imagenet_relative-loc.py:
# - mmcv Resize(scale=292): keep_ratio=False, i.e. every image is squashed to 292x292 whatever its aspect ratio
#   (0.x resized the short side to 292: see relative-loc-0x_resnet50_8xb64-steplr-70e_in1k.py);
# - mmcv RandomGrayscale(prob=0.66, keep_channels=True) with its default channel_weights (1, 1, 1): the channel
#   mean, truncated to uint8 (0.x used torchvision's luma weights);
# - RandomPatchWithLabels: 3x3 cells of 255 // 3 = 85 px cut with mmcv.imcrop, whose inclusive box end makes
#   the cells one pixel wider (inclusive_cell_end), and a random 64x64 patch in each.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'

patch_cfg = dict(type='RelativeLocPatches', patch_size=64, cell_size=85, inclusive_cell_end=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=292),
    dict(type='RandomCrop', crop_size=255),
    dict(type='RandomGrayscale', prob=0.66, keep_channels=True),
    patch_cfg,
    dict(type='PackInputs'),
]
# mmselfsup 1.x has no validation loader for relative location; this one reports the held-out patch-position
# accuracy and does not influence training.
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=292),
    dict(type='CenterCrop', crop_size=255),
    patch_cfg,
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix=dict(img_path='train/'),
        with_label=False,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/val.txt',
        data_prefix=dict(img_path='val/'),
        with_label=False,
        pipeline=val_pipeline))
# Patch-position accuracy of the 8 pairs of every held-out image.
val_evaluator = dict(type='Accuracy', topk=(1, ))
