# DINO linear evaluation of a frozen ViT-B/16 (facebookresearch/dino eval_linear.py, commit 7c446df, with the
# README's ViT-B setting --n_last_blocks 1 --avgpool_patchtokens true): one Linear on the last block's class token
# and the mean of its patch tokens, both after the final LayerNorm (cls_last1_mean, 2 x 768 features; DINO
# interleaves the two vectors, mmssl concatenates them: a fixed permutation of a linear layer's inputs).
# Everything else as the ViT-S/16 config: SGD 0.9, wd 0, lr 0.004 at 8 x 128, cosine, 100 epochs.
_base_ = ['./vit-small-p16_linear-dino_8xb128-coslr-100e_in1k.py']

model = dict(backbone=dict(arch='base', out_taps=['cls_last1_mean']))
