# CPU demo of kNN evaluation on Fashion-MNIST (converter output): ResNet-18 at 32 px, the scale of the NPID demo.
# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Fashion-MNIST'
model = dict(
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor'))
knn = dict(ks=(10, 20, 100, 200), temperature=0.07)

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
