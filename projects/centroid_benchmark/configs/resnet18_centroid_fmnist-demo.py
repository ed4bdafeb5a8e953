# Nearest-centroid accuracy of a frozen ResNet-18 on the Fashion-MNIST demo data, a benchmark defined outside mmssl/.
# Run from the repository root:
#   PYTHONPATH=projects/centroid_benchmark python -m mmssl.benchmarks centroid THIS_CONFIG CHECKPOINT|none
_base_ = '../../../configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'

# mmssl imports this module when it reads the config, which registers the `centroid` benchmark.
custom_imports = dict(imports=['centroid_benchmark'], allow_failed_imports=False)
