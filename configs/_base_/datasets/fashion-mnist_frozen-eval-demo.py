# Fashion-MNIST demo data (tools/dataset_converters/prepare_fashion_mnist.py) as the frozen-feature benchmarks read
# it (kNN, cached-feature probe): labelled train and val lists, one 32-px test pipeline, no augmentation.
# The data set these benchmarks evaluate on (model-zoo tables, result records).
dataset_name = 'Fashion-MNIST'

data_root = 'data/fashion_mnist/'
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=32, edge='short'),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=128, num_workers=2,
    dataset=dict(type='ImageList', data_root=data_root, ann_file='meta/train.txt', with_label=True,
                 pipeline=test_pipeline))
val_dataloader = dict(
    batch_size=128, num_workers=2,
    dataset=dict(type='ImageList', data_root=data_root, ann_file='meta/val.txt', with_label=True,
                 pipeline=test_pipeline))
