# The cached-feature probe of the 15-minute CPU demo (tools/demo.sh): the probe demo (resnet18_probe_fmnist-demo.py,
# same C grid, held-out selection and refit) with the photos at the scale relative-location pre-training sees (28 px
# upscaled to 84 px, as its pipeline does before cropping patches).
_base_ = ['../../../_base_/datasets/fashion-mnist_frozen-eval-84px-demo.py', '../../../_base_/models/resnet18.py']
# The probe demo's short grid (7 points, a decade apart) for a CPU.
probe = dict(taps=['feature4', 'feature5'], pooling='global', costs=dict(log10_start=-2, log10_stop=4, num=7),
             heldout=dict(size=0.1, seed=0), selection='heldout', refit=True, max_iter=1000, tol=1e-8)
