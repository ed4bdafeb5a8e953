# VOC07 linear SVM / low-shot SVM: features of a frozen ResNet-50 (feature1-5, benchmark pooling, L2-normalised).
# tools/benchmarks/classification/svm_voc07/extract.py CONFIG PRETRAIN --out DIR writes them; run_svm.py and
# run_lowshot.py train and test the SVMs. Images: _base_/datasets/voc07_svm-extract.py.
_base_ = ['../../../_base_/datasets/voc07_svm-extract.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC07'
layers = ['feature1', 'feature2', 'feature3', 'feature4', 'feature5']
# Low-shot: k positives and 19k negatives per class, 5 samples per k (svm_benchmark.py reads this list).
lowshot_shots = [1, 2, 4, 8, 16, 32, 64, 96]
model = dict(
    backbone=dict(type='ResNet', depth=50, norm_cfg=dict(type='BN')),
    data_preprocessor=dict(type='SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], to_rgb=True))
