# The 15-minute CPU demo (tools/demo.sh): the 300-iteration Fashion-MNIST demo's model, data and patches, trained
# for 160 iterations with a checkpoint every 40 and one of the initial weights (iter_0.pth), so that the demo's
# benchmark curves start at the random network of the same seed.
# Data: python tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist
_base_ = ['./relative-loc_resnet18_1xb32-300it_fmnist-demo.py']

max_iters = 160
# An iteration-based loop reads an endless stream of batches: InfiniteSampler reshuffles (seeded) at the end of the
# 1,000 photos instead of ending the loader, and a resumed run skips the batches it has trained on.
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=16),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=max_iters, milestones=[110, 140], gamma=0.1),
]
# The patch-position accuracy on the held-out photos, once, at the end.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=40, max_keep_ckpts=-1, save_initial=True))
