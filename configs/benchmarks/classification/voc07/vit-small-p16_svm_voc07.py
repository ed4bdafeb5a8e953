# VOC07 linear SVM / low-shot SVM on a frozen ViT-S/16: the features of the DINO protocols, each after the final
# LayerNorm and L2-normalised: the last class token (cls_last1, DINO's kNN feature) and the class tokens of the
# last 4 blocks (cls_last4, DINO's ViT-S linear feature). The SVM protocol (costs, cross-validation, low-shot
# samples) is the FAIR benchmark's, as for ResNet-50 (voc07/resnet50_svm_voc07.py).
# tools/benchmarks/classification/svm_voc07/extract.py CONFIG PRETRAIN --out DIR writes them; run_svm.py and
# run_lowshot.py train and test the SVMs.
_base_ = ['../../../_base_/models/vit-small-p16.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC07'
layers = ['cls_last1', 'cls_last4']
# Low-shot: k positives and 19k negatives per class, 5 samples per k (svm_benchmark.py reads this list).
lowshot_shots = [1, 2, 4, 8, 16, 32, 64, 96]

data_root = 'data/VOCdevkit/VOC2007/'
# Short side 256, then squashed to 224x224 (no crop), as the FAIR benchmark extracts and the ResNet-50 config does:
# a crop could cut off labelled objects, and ViT and ResNet rows see the same pixels.
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
