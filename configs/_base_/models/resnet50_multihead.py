# Multi-head linear evaluation: frozen ResNet-50, linear heads on feature1-5 (benchmark pooling, then SyncBN without
# affine per channel of the pooled map, as mmselfsup 0.x/1.x configs/benchmarks/classification/_base_/models/
# resnet50_multihead.py; plain BN on CPU-only machines). No extra avgpool head: as in the toolbox (0.x MultiClsHead,
# with_last_layer_unpool=False), the AvgPool number is its own protocol, resnet50_linear-8xb32-steplr-100e_in1k.py.
model = dict(
    type='ImageClassifier',
    frozen_backbone=True,
    backbone=dict(type='ResNet', depth=50, out_indices=[0, 1, 2, 3, 4], norm_cfg=dict(type='BN')),
    # The head's taps (names, channels, pooling) are the backbone's out_taps, passed by ImageClassifier.
    head=dict(type='MultiClsHead', num_classes=1000, in_size=224, pool_type='specified', with_avgpool_head=False,
              norm_cfg=dict(type='SyncBN', momentum=0.1, affine=False)))
