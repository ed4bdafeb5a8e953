# COCO2014 linear SVM (FAIR benchmark): features of a frozen ResNet-50 (feature1-5, benchmark pooling,
# L2-normalised), 80 one-vs-all SVMs with the VOC07 protocol; trained on train2014 (the feature folder's
# 'trainval' split), tested on val2014 ('test'). Labels: tools/dataset_converters/coco2014_svm_labels.py.
# The Gram matrix of 82,783 rows does not fit in memory: the fast solver switches to its primal path.
# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'COCO2014'
layers = ['feature1', 'feature2', 'feature3', 'feature4', 'feature5']
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))

data_root = 'data/coco/'
# Short side 256, then squashed to 224x224 (no crop), as for VOC07.
extract_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='PackInputs'),
]
trainval_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='COCO2014Classification', data_root=data_root, split='train2014', pipeline=extract_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='COCO2014Classification', data_root=data_root, split='val2014', pipeline=extract_pipeline))
