# CPU demo of the VOC07 SVM / low-shot benchmarks on the Fashion-MNIST VOC07-style mosaics (10 classes,
# difficult objects), written by: python tools/dataset_converters/prepare_fashion_mnist.py --voc07
# Same extraction as the real benchmark (short side 256, squashed to 224, benchmark pooling), on a ResNet-18.
_base_ = '../voc07/resnet50_svm_voc07.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'Fashion-MNIST'
model = dict(backbone=dict(depth=18))
data_root = 'data/fashion_mnist/VOCdevkit/VOC2007/'
metainfo = dict(classes=('tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag',
                         'ankleboot'))
trainval_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(data_root=data_root, metainfo=metainfo))
test_dataloader = dict(batch_size=32, num_workers=2, dataset=dict(data_root=data_root, metainfo=metainfo))
# About 400 trainval mosaics: k positives and 19k negatives per class exist up to k = 8.
lowshot_shots = [1, 2, 4, 8]
