# ImageNet 10% labels, fine-tuning grid point: backbone lr 0.01, head lr x10, weight decay 1e-4.
_base_ = '../../../../_base_/benchmarks/imagenet_semi-sup_20e.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'ImageNet-1k 10%'
train_dataloader = dict(dataset=dict(subset_file='meta/10percent.txt'))
optim_wrapper = dict(
    optimizer=dict(lr=1e-2, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=10)}))
