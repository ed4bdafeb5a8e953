# CPU demo of kNN evaluation on Fashion-MNIST (converter output) with a Vision Transformer: ViT-Tiny with 4-px
# patches at 32 px, the scale of the ResNet-18 kNN demo. The tap is the class token of the last block after the
# final norm (cls_last1), the feature DINO's eval_knn.py reads; k and T are DINO's.
# python -m mmssl.benchmarks knn CONFIG none   (none: the seeded random backbone; or a checkpoint file)
_base_ = ['../../../_base_/datasets/fashion-mnist_frozen-eval-demo.py', '../../../_base_/models/vit-tiny-p4.py']
knn = dict(ks=(10, 20, 100, 200), temperature=0.07, tap='cls_last1')
