# CPU demo of the one-pass learning-rate grid of the multi-head linear evaluation: the recipe of
# resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py with every head (feature1-5, avgpool) trained at 0.1x, 1x and 10x the
# config's lr (0.001, 0.01, 0.1) on one frozen forward per batch. The 1x heads keep their plain names (the fixed
# protocol); the others are named <head>@lrx<multiplier>, e.g. feature5@lrx10.
_base_ = ['./resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py']

lr_grid = [0.1, 1, 10]
model = dict(head=dict(lr_grid=lr_grid))
# Each grid head's parameters form their own optimizer groups (own momentum buffers; the schedulers scale every
# group alike), so each head trains as it would alone. The linear benchmark adds these keys when a config lacks
# them (mmssl.benchmarks.linear.add_lr_grid_param_groups); they are written here so that a plain Runner gets them.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    '@lrx0_1.': dict(lr_mult=0.1),
    '@lrx10.': dict(lr_mult=10),
}))
