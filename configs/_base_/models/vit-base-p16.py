# ViT-Base/16 (timm's vit_base: 768 wide, 12 blocks, 12 heads) as the frozen-feature benchmarks build it:
# mmssl.models.VisionTransformer, state-dict keys as timm's, 224-px position embeddings (resampled at other input
# sizes), ImageNet mean / std. Taps: block{i}_cls / block{i}_mean / block{i}_map per block, cls_last{n} and
# cls_last{n}_mean (n = 1-4) for the linear protocols; a benchmark config selects its taps by name.
model = dict(
    backbone=dict(type='VisionTransformer', arch='base', patch_size=16, img_size=224, out_taps=['cls_last1']),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
