# CPU demo of kNN evaluation on Fashion-MNIST (converter output): ResNet-18 at 32 px, the scale of the NPID demo.
_base_ = ['../../../_base_/datasets/fashion-mnist_frozen-eval-demo.py', '../../../_base_/models/resnet18.py']
knn = dict(ks=(10, 20, 100, 200), temperature=0.07)
