# ViT-Tiny (timm's vit_tiny: 192 wide, 12 blocks, 3 heads) with 4-px patches and 32-px position embeddings (an 8x8
# grid of patch tokens): the Vision Transformer of the CPU demos on Fashion-MNIST. ImageNet mean / std.
model = dict(
    backbone=dict(type='VisionTransformer', arch='tiny', patch_size=4, img_size=32, out_taps=['cls_last1']),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
