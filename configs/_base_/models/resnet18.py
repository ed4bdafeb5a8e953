# A ResNet-18 (BN) as the CPU demos' frozen-feature benchmarks read it: the backbone and the images' 0-255 input.
model = dict(
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor'))
