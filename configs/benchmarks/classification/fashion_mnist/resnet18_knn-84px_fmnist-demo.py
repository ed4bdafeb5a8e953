# kNN of the 15-minute CPU demo (tools/demo.sh): the kNN demo (resnet18_knn_fmnist-demo.py) with the photos at the
# scale relative-location pre-training sees (28 px upscaled to 84 px, as its pipeline does before cropping
# patches), on feature4 (6x6 at 84 px, globally averaged): the tap where that pre-training moves frozen features
# furthest from a random ResNet-18.
_base_ = './resnet18_knn_fmnist-demo.py'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=84, edge='short'),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
knn = dict(tap='feature4')
