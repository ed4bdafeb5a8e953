# The VOC07-style SVM demo (resnet18_svm_voc07_fmnist-demo.py) on the taps where relative-location pre-training of
# the CPU demo moves the mAP furthest from a random ResNet-18 (feature3-5): the 15-minute demo (tools/demo.sh)
# benchmarks every checkpoint with it. Same extraction, pooling, costs and cross-validation as the protocol.
_base_ = './resnet18_svm_voc07_fmnist-demo.py'

layers = ['feature3', 'feature4', 'feature5']
