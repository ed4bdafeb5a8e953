# The Fashion-MNIST frozen-eval demo data (fashion-mnist_frozen-eval-demo.py) with the photos at the scale
# relative-location pre-training sees (28 px upscaled to 84 px, as its pipeline does before cropping patches).
_base_ = ['./fashion-mnist_frozen-eval-demo.py']

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=84, edge='short'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
