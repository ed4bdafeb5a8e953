# PASCAL VOC 2007 as the SVM / low-shot SVM benchmarks extract it: trainval and test, one extraction pipeline.
data_root = 'data/VOCdevkit/VOC2007/'
# Short side 256, then squashed to 224x224 (no crop), as the FAIR benchmark extracts: a crop could cut off labelled
# objects.
extract_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='PackInputs'),
]
trainval_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='VOC07Classification', data_root=data_root, split='trainval', pipeline=extract_pipeline))
test_dataloader = dict(
    batch_size=32, num_workers=4,
    dataset=dict(type='VOC07Classification', data_root=data_root, split='test', pipeline=extract_pipeline))
