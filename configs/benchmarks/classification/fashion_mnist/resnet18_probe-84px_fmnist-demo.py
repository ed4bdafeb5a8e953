# The cached-feature probe of the 15-minute CPU demo (tools/demo.sh): the probe demo (resnet18_probe_fmnist-demo.py,
# same C grid, held-out selection and refit) with the photos at the scale relative-location pre-training sees (28 px
# upscaled to 84 px, as its pipeline does before cropping patches).
_base_ = './resnet18_probe_fmnist-demo.py'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=84, edge='short'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
