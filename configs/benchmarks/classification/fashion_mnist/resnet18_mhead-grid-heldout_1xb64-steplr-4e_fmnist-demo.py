# CPU demo of the multi-head linear evaluation with its learning rate chosen per tap on held-out training images:
# the recipe of resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py, feature1-5 only (no jointly trained avgpool head),
# every tap's head trained at 0.1x, 1x and 10x the config's lr (0.001, 0.01, 0.1) on one frozen forward per batch.
# The grid trains on the training photos outside a seeded, class-balanced held-out split of 10 % (100 photos); each
# tap's lr is chosen on those photos and the chosen head is reported on val (accuracy/<tap>/top1), the config's own
# lr beside it (accuracy/<tap>@fixed/top1).
_base_ = ['./resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py']

lr_grid = [0.1, 1, 10]
model = dict(head=dict(with_avgpool_head=False, lr_grid=lr_grid))
# Each grid head's parameters form their own optimizer groups (own momentum buffers; the schedulers scale every
# group alike), so each head trains as it would alone. The linear benchmark adds these keys when a config lacks
# them (mmssl.benchmarks.linear_grid.add_lr_grid_param_groups); they are written here so that a plain Runner gets them.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    '@lrx0_1.': dict(lr_mult=0.1),
    '@lrx10.': dict(lr_mult=10),
}))
# Read by the linear benchmark (mmssl.benchmarks.linear_selection): the point of each tap chosen on held-out train.
linear_selection = dict(heldout=dict(size=0.1, seed=0), selection='heldout', refit=False)
# The 900 fit photos end every epoch on a batch of 4 (900 = 14 x 64 + 4): its train-mode BatchNorm statistics and
# full-lr step cost every head several points of val top-1 (74.8 / 75.2 with drop_last against 68.4 / 73.2 without,
# seeds 0 / 1, random-init ResNet-18), more than the lr choice moves; the 4 photos are dropped.
train_dataloader = dict(drop_last=True)
