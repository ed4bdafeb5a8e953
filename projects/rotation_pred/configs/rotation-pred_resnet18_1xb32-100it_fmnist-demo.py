# Rotation prediction on the Fashion-MNIST demo data, defined entirely outside mmssl/.
# Run from the repository root: PYTHONPATH=projects/rotation_pred python tools/train.py THIS_CONFIG
_base_ = [
    '../../../configs/_base_/datasets/fashion-mnist_demo.py',
    '../../../configs/_base_/default_runtime.py',
]

# mmssl imports this module before building, which registers RotationPred and RandomRotationStack.
custom_imports = dict(imports=['rotation_pred'], allow_failed_imports=False)

model = dict(
    type='RotationPred',
    backbone=dict(type='ResNet', depth=18, out_indices=[4]),
    head=dict(type='ClsHead', in_channels=512, num_classes=4, with_avg_pool=True))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=64, edge='short'),
    dict(type='RandomRotationStack'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_evaluator = dict(type='Accuracy', topk=(1, ))

optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=False, begin=0, end=100, milestones=[80], gamma=0.1)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=100, val_interval=100)
val_cfg = dict()
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=100, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
