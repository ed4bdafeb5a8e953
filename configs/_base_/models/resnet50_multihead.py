# Multi-head linear evaluation: frozen ResNet-50, linear heads on feature1-5 (benchmark pooling, BN without affine)
# and on the global average pool of feature5.
model = dict(
    type='ImageClassifier',
    frozen_backbone=True,
    backbone=dict(type='ResNet', depth=50, out_indices=[0, 1, 2, 3, 4], norm_cfg=dict(type='BN')),
    head=dict(type='MultiClsHead', in_indices=[0, 1, 2, 3, 4], in_channels=[64, 256, 512, 1024, 2048],
              num_classes=1000, in_size=224, pool_type='specified', with_avgpool_head=True))
