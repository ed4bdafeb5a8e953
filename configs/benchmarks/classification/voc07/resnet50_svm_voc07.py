# VOC07 linear SVM / low-shot SVM: features of a frozen ResNet-50 (feature1-5, benchmark pooling, L2-normalised).
# tools/benchmarks/classification/svm_voc07/extract.py CONFIG PRETRAIN --out DIR writes them; run_svm.py and
# run_lowshot.py train and test the SVMs.
# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC07'
layers = ['feature1', 'feature2', 'feature3', 'feature4', 'feature5']
# Low-shot: k positives and 19k negatives per class, 5 samples per k (svm_benchmark.py reads this list).
lowshot_shots = [1, 2, 4, 8, 16, 32, 64, 96]
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))

data_root = 'data/VOCdevkit/VOC2007/'
# Short side 256, then squashed to 224x224 (no crop), as the FAIR benchmark extracts.
extract_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='PackInputs'),
]
trainval_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='VOC07Classification', data_root=data_root, split='trainval', pipeline=extract_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='VOC07Classification', data_root=data_root, split='test', pipeline=extract_pipeline))
