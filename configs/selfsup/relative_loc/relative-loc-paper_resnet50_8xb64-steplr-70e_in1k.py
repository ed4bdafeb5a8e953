# Relative location with the patch sampling of the paper's code (cdoersch/deepcontext train.py), on the toolbox's
# ResNet-50, schedule and 3x3 centre pairs. What deepcontext does and this config reproduces:
# - every image rescaled to randint(150000, 450000) pixels, aspect kept (imgloader / get_resized_image);
# - 96-px patches, 48-px gaps, +-7 px jitter clipped at the image border (sample_patch);
# - per patch (prep_image): pixelation with p 0.33 to a side sqrt(U * (95^2 - 10^2) + 10^2), bilinear down and up;
#   one random channel kept minus its mean, the others U(0, 1) - 0.5; patch / RMS * 50;
# - pair features first (reference) || second, label = position of the second relative to the first, row-major
#   (pos2lbl), which for 3x3 centre pairs is centre || neighbour with row-major labels.
# What mmssl does differently (docs/en/benchmarks/differences.md lists each with its reason): one 3x3 grid per image
# (the paper tiles the whole image, 4 grids per image, and uses every adjacent pair in both directions), images
# whose short side is under the 384-px grid are upscaled (the paper skips images under 248 px and otherwise
# fits fewer patches), ResNet-50 + the toolbox schedule (the paper: a CaffeNet with BN without affine, ~1M
# iterations of up to 512 patches, summed loss).
_base_ = 'relative-loc_resnet50_8xb64-steplr-70e_in1k.py'

model = dict(
    pair_order='centre_first',
    label_layout='row_major',
    # Patches are already normalised (RMS 50): the preprocessor only converts BGR to RGB (deepcontext uses RGB).
    data_preprocessor=dict(mean=[0., 0., 0.], std=[1., 1., 1.], to_rgb=True))

patch_cfg = dict(
    type='RelativeLocPatches',
    patch_size=96,
    cell_size=144,
    jitter=7,
    pixelate_prob=0.33,
    pixelate_min_pixels=100,
    color_drop=True,
    patch_normalize=True,
    patch_norm_scale=50.,
    upscale_small=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomRescalePixels', min_pixels=150000, max_pixels=450000),
    patch_cfg,
    dict(type='PackInputs'),
]
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomRescalePixels', min_pixels=300000, max_pixels=300000),
    patch_cfg,
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
