# Relative location as mmselfsup 1.x configs/selfsup/_base_/models/relative-loc.py (norm BN in the backbone, in 0.x
# and 1.x alike), with 1.x's pair layout: features neighbour || centre, labels in 1.x's column-major cell order.
model = dict(
    type='RelativeLoc',
    backbone_mode='exact',
    pair_order='neighbour_first',
    label_layout='1.x',
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor', mean=[124, 117, 104], std=[59, 58, 58], to_rgb=True),
    backbone=dict(type='ResNet', depth=50, out_indices=[4], norm_cfg=dict(type='BN')),
    neck=dict(type='RelativeLocNeck', in_channels=2048, out_channels=4096, with_avg_pool=True,
              norm_cfg=dict(type='BN1d', momentum=0.003), dropout=0.5),
    # mmselfsup's ClsHead names its layer fc_cls: checkpoints carry head.fc_cls.* as the toolbox's do.
    head=dict(type='ClsHead', in_channels=4096, num_classes=8, with_avg_pool=False, fc_name='fc_cls',
              init_cfg=dict(type='Normal', std=0.005, layer='Linear')),
)
