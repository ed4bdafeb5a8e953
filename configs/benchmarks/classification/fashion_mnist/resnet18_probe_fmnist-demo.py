# CPU demo of the cached-feature logistic-regression probe on Fashion-MNIST (converter output): ResNet-18 at 32 px,
# the scale of the kNN demo. feature4 and feature5 globally average-pooled and L2-normalised, extracted once; C
# chosen per tap on a seeded, class-balanced 10 % of train, refitted on all of train, reported on val.
# python -m mmssl.benchmarks probe CONFIG CHECKPOINT
_base_ = ['../../../_base_/datasets/fashion-mnist_frozen-eval-demo.py', '../../../_base_/models/resnet18.py']
# A short grid (7 points, a decade apart) for a CPU; the protocol config keeps DINOv2's 45 points.
probe = dict(taps=['feature4', 'feature5'], pooling='global', costs=dict(log10_start=-2, log10_stop=4, num=7),
             heldout=dict(size=0.1, seed=0), selection='heldout', refit=True, max_iter=1000, tol=1e-8)
