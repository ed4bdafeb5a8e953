# CPU demo of the cached-feature logistic-regression probe on Fashion-MNIST (converter output) with a ViT-Tiny
# (4-px patches at 32 px, as the ViT kNN demo): the last block's class token (cls_last1) and the class tokens of the
# last four blocks with the last block's mean patch token (cls_last4_mean, DINOv2's n = 4 with avgpool), each
# L2-normalised and extracted once; C chosen per tap on a seeded, class-balanced 10 % of train, refitted on all of
# train, reported on val. Two taps keep the demo short (each costs the seven fits and a refit).
# python -m mmssl.benchmarks probe CONFIG none   (or a checkpoint file)
_base_ = ['../../../_base_/datasets/fashion-mnist_frozen-eval-demo.py', '../../../_base_/models/vit-tiny-p4.py']
# A short grid (7 points, a decade apart) for a CPU; the protocol configs keep DINOv2's 45 points.
probe = dict(taps=['cls_last1', 'cls_last4_mean'], pooling='global',
             costs=dict(log10_start=-2, log10_stop=4, num=7), heldout=dict(size=0.1, seed=0), selection='heldout',
             refit=True, max_iter=1000, tol=1e-8)
