# DINOv2 kNN evaluation of a frozen ViT-S/14 (facebookresearch/dinov2 dinov2/eval/knn.py, commit b8931f7): the
# class token after the final LayerNorm, L2-normalised (ModelWithNormalize), k in {10, 20, 100, 200}, T 0.07
# (softmax over the k neighbours of similarity / T: the ranking of DINO's exp weights), all of train as neighbours
# (n_per_class_list [-1]). Images: short side 256 (bicubic), centre crop 224. The hub checkpoints hold a 37 x 37
# position grid (518 px) and layer scale.
_base_ = ['./vit-small-p16_knn_in1k.py']

model = dict(backbone=dict(patch_size=14, img_size=518, layer_scale_init_value=1e-5))
