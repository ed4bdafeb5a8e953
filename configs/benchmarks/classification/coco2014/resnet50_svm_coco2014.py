# COCO2014 linear SVM (FAIR benchmark): features of a frozen ResNet-50 (feature1-5, benchmark pooling,
# L2-normalised), 80 one-vs-all SVMs with the VOC07 protocol; trained on train2014 (the feature folder's
# 'trainval' split), tested on val2014 ('test'). Labels: tools/dataset_converters/coco2014_svm_labels.py.
# The Gram matrix of 82,783 rows does not fit in memory: the fast solver switches to its primal path.
# Extraction as for VOC07 (short side 256, squashed to 224x224, no crop): the VOC07 config with COCO's data.
_base_ = '../voc07/resnet50_svm_voc07.py'

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'COCO2014'
data_root = 'data/coco/'
trainval_dataloader = dict(dataset=dict(type='COCO2014Classification', data_root=data_root, split='train2014'))
test_dataloader = dict(dataset=dict(type='COCO2014Classification', data_root=data_root, split='val2014'))
