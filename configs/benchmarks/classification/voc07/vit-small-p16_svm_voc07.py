# VOC07 linear SVM / low-shot SVM on a frozen ViT-S/16: the features of the DINO protocols, each after the final
# LayerNorm and L2-normalised: the last class token (cls_last1, DINO's kNN feature) and the class tokens of the
# last 4 blocks (cls_last4, DINO's ViT-S linear feature). The SVM protocol (costs, cross-validation, low-shot
# samples) is the FAIR benchmark's, as for ResNet-50 (voc07/resnet50_svm_voc07.py).
# tools/benchmarks/classification/svm_voc07/extract.py CONFIG PRETRAIN --out DIR writes them; run_svm.py and
# run_lowshot.py train and test the SVMs.
# The extraction (short side 256, squashed to 224x224, no crop) is the ResNet-50 config's base, so that ViT and
# ResNet rows see the same pixels.
_base_ = ['../../../_base_/models/vit-small-p16.py', '../../../_base_/datasets/voc07_svm-extract.py']

# The data set this benchmark evaluates on (model-zoo tables, result records).
dataset_name = 'VOC07'
layers = ['cls_last1', 'cls_last4']
# Low-shot: k positives and 19k negatives per class, 5 samples per k (svm_benchmark.py reads this list).
lowshot_shots = [1, 2, 4, 8, 16, 32, 64, 96]
