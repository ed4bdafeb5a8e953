# NPID as mmselfsup 1.x configs/selfsup/_base_/models/npid.py: negatives uniform over all bank entries
# (ensure_neg=False), LinearNeck with PyTorch's default init, bank update (1 - m) * old + m * new with m = 0.5.
model = dict(
    type='NPID',
    ensure_neg=False,
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True),
    backbone=dict(type='ResNet', depth=50, out_indices=[4], norm_cfg=dict(type='SyncBN')),
    neck=dict(type='LinearNeck', in_channels=2048, out_channels=128, with_avg_pool=True),
    head=dict(type='NPIDHead', loss_type='infonce', temperature=0.07, num_negatives=65536),
    memory_bank=dict(type='SimpleMemory', length=1281167, feat_dim=128, momentum=0.5))
