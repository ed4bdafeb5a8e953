# kNN of the 15-minute CPU demo (tools/demo.sh): the kNN demo (resnet18_knn_fmnist-demo.py) with the photos at the
# scale relative-location pre-training sees (28 px upscaled to 84 px, as its pipeline does before cropping
# patches), on feature4 (6x6 at 84 px, globally averaged): the tap where that pre-training moves frozen features
# furthest from a random ResNet-18.
_base_ = ['../../../_base_/datasets/fashion-mnist_frozen-eval-84px-demo.py', '../../../_base_/models/resnet18.py']
knn = dict(ks=(10, 20, 100, 200), temperature=0.07, tap='feature4')
