# Fashion-MNIST demo data as tools/dataset_converters/prepare_fashion_mnist.py writes it (ImageNet-style lists).
# Configs add the pipelines and say whether labels are used.
data_root = 'data/fashion_mnist/'

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageList', data_root=data_root, ann_file='meta/train.txt', with_label=False))
val_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='ImageList', data_root=data_root, ann_file='meta/val.txt', with_label=False))
