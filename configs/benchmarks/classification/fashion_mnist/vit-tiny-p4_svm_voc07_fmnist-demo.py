# CPU demo of the VOC07 SVM / low-shot benchmarks on the Fashion-MNIST VOC07-style mosaics (10 classes, difficult
# objects; prepare_fashion_mnist.py --voc07) with a ViT-Tiny (4-px patches at 32 px, as the ViT kNN demo). The
# 56-px mosaics are squashed to 32x32 (no crop), not to the ResNet demo's 224: 3136 patch tokens per image would
# keep a CPU busy for many minutes. The taps are vectors (already pooled), L2-normalised: the last block's class
# token, the class tokens of the last four blocks and the last block's mean patch token.
# python -m mmssl.benchmarks svm CONFIG none   (and lowshot; or a checkpoint file)
_base_ = ['../../../_base_/models/vit-tiny-p4.py', '../../../_base_/datasets/voc07_svm-extract.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Fashion-MNIST'
layers = ['cls_last1', 'cls_last4', 'block12_mean']
# About 400 trainval mosaics: k positives and 19k negatives per class exist up to k = 8.
lowshot_shots = [1, 2, 4, 8]
data_root = 'data/fashion_mnist/VOCdevkit/VOC2007/'
metainfo = dict(classes=('tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag',
                         'ankleboot'))
extract_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='PackInputs'),
]
trainval_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=extract_pipeline))
test_dataloader = dict(num_workers=2, dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=extract_pipeline))
