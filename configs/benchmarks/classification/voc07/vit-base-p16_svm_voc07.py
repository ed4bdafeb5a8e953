# VOC07 linear SVM / low-shot SVM on a frozen ViT-B/16: the last class token (cls_last1) and DINO's ViT-B linear
# feature (cls_last1_mean: that token and the mean of the last block's patch tokens), after the final LayerNorm,
# L2-normalised; otherwise the ViT-S/16 config.
_base_ = ['./vit-small-p16_svm_voc07.py']

model = dict(backbone=dict(arch='base'))
layers = ['cls_last1', 'cls_last1_mean']
