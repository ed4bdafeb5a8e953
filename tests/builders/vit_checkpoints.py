"""Vision Transformer checkpoints in each layout the loader reads, written from ONE timm ``VisionTransformer`` as
each project's own code writes them (dict structure, prefixes, the heads, decoder, momentum encoder and optimizer
entries beside the backbone):

- timm: ``model.state_dict()`` (``head.*`` of the classifier included).
- DINO ``main_dino.py``: ``{'student', 'teacher', 'optimizer', 'epoch', 'args', 'dino_loss'}``, both networks a
  ``MultiCropWrapper`` (``backbone.*``, ``head.mlp.*``, ``head.last_layer.weight_g / weight_v``), the student saved
  from DistributedDataParallel (``module.``). iBOT ``main_ibot.py``: the same with ``ibot_loss`` and the student's
  ``masked_embed``. ``args`` is the ``argparse.Namespace`` of the command line (the parser's options, the
  distributed ones ``init_distributed_mode`` adds).
- MoCo v3 ``main_moco.py``: ``{'epoch', 'arch', 'state_dict', 'optimizer', 'scaler'}`` of the DDP-wrapped
  ``MoCo_ViT``: ``module.base_encoder.*`` / ``module.momentum_encoder.*`` with the projection MLP as ``head.N``
  (Linear, BatchNorm1d, ReLU, ...), ``module.predictor.*``.
- MAE ``util/misc.py`` ``save_model``: ``{'model', 'optimizer', 'epoch', 'scaler', 'args'}`` (``args`` as
  DINO's); ``model`` holds the encoder, ``mask_token`` and ``decoder_embed / decoder_pos_embed / decoder_blocks /
  decoder_norm / decoder_pred``.
- DINOv2: the hub weights (``DinoVisionTransformer.state_dict()``: ``register_tokens``, 2-D ``mask_token``),
  ``teacher_checkpoint.pth`` (``{'teacher': {'backbone.*', 'dino_head.*'}}``) and fvcore's training checkpoint
  (``{'model': {'student.backbone.*', 'teacher.backbone.*', ...}, 'optimizer', 'iteration'}``, blocks chunked
  ``blocks.C.N.*``).
- torchvision: a ``torchvision.models.VisionTransformer``'s own ``state_dict()`` after loading the same weights.
- mmpretrain: an ``ImageClassifier`` checkpoint (``meta``, ``state_dict`` with ``backbone.*`` named as its
  ``deit3_to_mmpretrain.py`` names timm's, ``head.layers.head.*``).
- mmssl: ``state_dict`` with ``backbone.*`` (+ neck, head); ``ddp``: the timm state dict under ``module.``;
  ``backbone``: a bare backbone without head (DINO's and MAE's released weights).
"""
import argparse
import os.path as osp

#: the layout each file is written as -> the layout the loader must detect
VIT_LAYOUTS = {'timm': 'timm', 'dino': 'dino', 'ibot': 'ibot', 'mocov3': 'mocov3', 'mae': 'mae',
               'dinov2': 'dinov2', 'dinov2-teacher': 'dinov2', 'dinov2-train': 'dinov2',
               'torchvision-vit': 'torchvision-vit', 'mmpretrain-vit': 'mmpretrain-vit', 'mmssl': 'mmssl',
               'ddp': 'ddp', 'backbone': 'backbone'}
#: ViT-Tiny's width and heads; two blocks keep the files small
TINY = dict(embed_dim=192, num_heads=3, depth=2)


def timm_vit(seed: int = 0, patch_size: int = 4, img_size: int = 32, **kwargs):
    """A timm ``VisionTransformer`` (ViT-Tiny width, two blocks unless ``kwargs`` say otherwise) with random
    weights drawn from ``seed``, a 10-class head and non-trivial norms and position embedding, in eval mode."""
    import torch
    from timm.models.vision_transformer import VisionTransformer
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = VisionTransformer(img_size=img_size, patch_size=patch_size, num_classes=10, **{**TINY, **kwargs})
        with torch.no_grad():
            for name, value in model.named_parameters():
                norm = name.endswith(('norm1.weight', 'norm2.weight', 'norm.weight'))
                if norm or name in ('pos_embed', 'cls_token', 'reg_token'):
                    value.normal_(1.0 if name.endswith('weight') else 0.0, 0.2)
                elif name.endswith('.gamma'):
                    value.uniform_(0.5, 1.5)
    return model.eval()


def _shifted(state: dict, by: float) -> dict:
    """Another network of the same shapes (a student or momentum copy that must not be read)."""
    return {key: value + by for key, value in state.items()}


def _dino_head(prefix: str, width: int, out: int = 64) -> dict:
    """DINO's ``DINOHead`` entries (an MLP then the weight-normed last layer)."""
    import torch
    return {f'{prefix}mlp.0.weight': torch.zeros(32, width), f'{prefix}mlp.0.bias': torch.zeros(32),
            f'{prefix}mlp.2.weight': torch.zeros(16, 32), f'{prefix}mlp.2.bias': torch.zeros(16),
            f'{prefix}last_layer.weight_g': torch.ones(out, 1), f'{prefix}last_layer.weight_v': torch.zeros(out, 16)}


def _optimizer() -> dict:
    import torch
    return {'state': {0: {'exp_avg': torch.zeros(3)}}, 'param_groups': [{'lr': 0.1, 'params': [0]}]}


class OtherTrainerOptions:
    """Options of a trainer whose class is on no allow-list: a checkpoint that pickles it must be refused."""

    def __init__(self, lr: float = 0.1):
        self.lr = lr


def dino_args(**options) -> argparse.Namespace:
    """The ``args`` ``main_dino.py`` saves: its parser's options (their defaults unless ``options`` say otherwise:
    ``local_crops_scale`` is a tuple, ``norm_last_layer`` a bool) and ``rank`` / ``world_size`` / ``gpu`` set by
    ``utils.init_distributed_mode``."""
    defaults = dict(arch='vit_small', patch_size=16, out_dim=65536, norm_last_layer=True, momentum_teacher=0.996,
                    use_bn_in_head=False, warmup_teacher_temp=0.04, teacher_temp=0.04, warmup_teacher_temp_epochs=0,
                    use_fp16=True, weight_decay=0.04, weight_decay_end=0.4, clip_grad=3.0, batch_size_per_gpu=64,
                    epochs=100, freeze_last_layer=1, lr=0.0005, warmup_epochs=10, min_lr=1e-6, optimizer='adamw',
                    drop_path_rate=0.1, global_crops_scale=(0.4, 1.), local_crops_number=8,
                    local_crops_scale=(0.05, 0.4), data_path='/path/to/imagenet/train/', output_dir='.',
                    saveckp_freq=20, seed=0, num_workers=10, dist_url='env://', local_rank=0, rank=0, world_size=1,
                    gpu=0)
    return argparse.Namespace(**{**defaults, **options})


def mae_args(**options) -> argparse.Namespace:
    """The ``args`` MAE's ``main_pretrain.py`` saves: its parser's options (``lr`` as it sets it from ``blr``) and
    ``distributed`` / ``rank`` / ``gpu`` / ``dist_backend`` set by ``util.misc.init_distributed_mode``."""
    defaults = dict(batch_size=64, epochs=400, accum_iter=1, model='mae_vit_large_patch16', input_size=224,
                    mask_ratio=0.75, norm_pix_loss=False, weight_decay=0.05, lr=0.00025, blr=1e-3, min_lr=0.,
                    warmup_epochs=40, data_path='/datasets01/imagenet_full_size/061417/',
                    output_dir='./output_dir', log_dir='./output_dir', device='cuda', seed=0, resume='',
                    start_epoch=0, num_workers=10, pin_mem=True, world_size=1, local_rank=-1, dist_on_itp=False,
                    dist_url='env://', rank=0, gpu=0, distributed=True, dist_backend='nccl')
    return argparse.Namespace(**{**defaults, **options})


def _dino_like(backbone: dict, width: int, loss: str, student_extra: dict, args) -> dict:
    """``main_dino.py`` / ``main_ibot.py``'s save_dict."""
    import torch
    student = {**backbone, **student_extra}
    return {'student': {**{f'module.backbone.{k}': v for k, v in _shifted(student, 1.0).items()},
                        **_dino_head('module.head.', width)},
            'teacher': {**{f'backbone.{k}': v for k, v in backbone.items()}, **_dino_head('head.', width)},
            'optimizer': _optimizer(), 'epoch': 100, 'args': args, loss: {'center': torch.zeros(1, 64)}}


def _moco_mlp(prefix: str, width: int) -> dict:
    """MoCo v3's 3-layer projection MLP ``_build_mlp(3, ...)`` (Linear without bias, BatchNorm1d, ReLU; the last
    BatchNorm without affine)."""
    import torch
    entries = {}
    for linear, norm, (fan_in, fan_out) in ((0, 1, (width, 32)), (3, 4, (32, 32)), (6, 7, (32, 16))):
        entries[f'{prefix}{linear}.weight'] = torch.zeros(fan_out, fan_in)
        if norm != 7:
            entries[f'{prefix}{norm}.weight'] = torch.ones(fan_out)
            entries[f'{prefix}{norm}.bias'] = torch.zeros(fan_out)
        entries[f'{prefix}{norm}.running_mean'] = torch.zeros(fan_out)
        entries[f'{prefix}{norm}.running_var'] = torch.ones(fan_out)
        entries[f'{prefix}{norm}.num_batches_tracked'] = torch.tensor(5)
    return entries


def _mae_decoder(width: int, tokens: int, patch_pixels: int) -> dict:
    """MAE's decoder (``models_mae.py``): mask token, embedding, fixed position embedding, one block, norm, pred."""
    import torch
    dim = 32
    block = {'norm1.weight': torch.ones(dim), 'norm1.bias': torch.zeros(dim),
             'attn.qkv.weight': torch.zeros(3 * dim, dim), 'attn.qkv.bias': torch.zeros(3 * dim),
             'attn.proj.weight': torch.zeros(dim, dim), 'attn.proj.bias': torch.zeros(dim),
             'norm2.weight': torch.ones(dim), 'norm2.bias': torch.zeros(dim),
             'mlp.fc1.weight': torch.zeros(4 * dim, dim), 'mlp.fc1.bias': torch.zeros(4 * dim),
             'mlp.fc2.weight': torch.zeros(dim, 4 * dim), 'mlp.fc2.bias': torch.zeros(dim)}
    return {'mask_token': torch.zeros(1, 1, dim), 'decoder_pos_embed': torch.zeros(1, tokens, dim),
            'decoder_embed.weight': torch.zeros(dim, width), 'decoder_embed.bias': torch.zeros(dim),
            **{f'decoder_blocks.0.{k}': v for k, v in block.items()},
            'decoder_norm.weight': torch.ones(dim), 'decoder_norm.bias': torch.zeros(dim),
            'decoder_pred.weight': torch.zeros(patch_pixels, dim), 'decoder_pred.bias': torch.zeros(patch_pixels)}


def dinov2_backbone(backbone: dict, chunks: int = 0) -> dict:
    """A timm-named backbone (``pos_embed`` with class-token row only) named as ``DinoVisionTransformer`` holds it:
    ``register_tokens``, a 2-D ``mask_token``, blocks ``blocks.C.N.*`` with ``chunks`` > 0."""
    import torch
    width = backbone['cls_token'].shape[-1]
    depth = len({key.split('.')[1] for key in backbone if key.startswith('blocks.')})
    state = {'cls_token': backbone['cls_token'], 'pos_embed': backbone['pos_embed']}
    if 'reg_token' in backbone:
        state['register_tokens'] = backbone['reg_token']
    state['mask_token'] = torch.zeros(1, width)
    size = depth // chunks if chunks else depth
    for key, value in backbone.items():
        if key.startswith('blocks.'):
            block = int(key.split('.')[1])
            key = f'blocks.{block // size}.{key[len("blocks."):]}' if chunks else key
        if key not in ('cls_token', 'pos_embed', 'reg_token'):
            state[key] = value
    return state


def _torchvision(state: dict) -> dict:
    """The weights loaded into torchvision's own ``VisionTransformer`` and saved from it."""
    import torchvision
    width, depth = state['cls_token'].shape[-1], len({k.split('.')[1] for k in state if k.startswith('blocks.')})
    patch = state['patch_embed.proj.weight'].shape[-1]
    grid = int(round((state['pos_embed'].shape[1] - 1) ** 0.5))
    model = torchvision.models.VisionTransformer(image_size=patch * grid, patch_size=patch, num_layers=depth,
                                                 num_heads=3, hidden_dim=width, mlp_dim=4 * width, num_classes=10)
    names = {'cls_token': 'class_token', 'pos_embed': 'encoder.pos_embedding', 'norm.weight': 'encoder.ln.weight',
             'norm.bias': 'encoder.ln.bias', 'head.weight': 'heads.head.weight', 'head.bias': 'heads.head.bias',
             'patch_embed.proj.weight': 'conv_proj.weight', 'patch_embed.proj.bias': 'conv_proj.bias'}
    parts = {'norm1': 'ln_1', 'attn.qkv.weight': 'self_attention.in_proj_weight',
             'attn.qkv.bias': 'self_attention.in_proj_bias', 'attn.proj': 'self_attention.out_proj',
             'norm2': 'ln_2', 'mlp.fc1': 'mlp.0', 'mlp.fc2': 'mlp.3'}
    converted = {}
    for key, value in state.items():
        if key.startswith('blocks.'):
            _, block, rest = key.split('.', 2)
            for timm_part, torchvision_part in parts.items():
                rest = rest.replace(timm_part, torchvision_part) if rest.startswith(timm_part) else rest
            converted[f'encoder.layers.encoder_layer_{block}.{rest}'] = value
        else:
            converted[names[key]] = value
    model.load_state_dict(converted, strict=True)
    return {key: value.clone() for key, value in model.state_dict().items()}


def _mmpretrain(state: dict) -> dict:
    """timm's names as mmpretrain's ``deit3_to_mmpretrain.py`` renames them (final norm ``ln1``, ``ffn.layers``)."""
    converted = {}
    for key, value in state.items():
        if key.startswith('head.'):
            converted[key.replace('head.', 'head.layers.head.')] = value
            continue
        new = key.replace('patch_embed.proj.', 'patch_embed.projection.')
        if key.startswith('blocks.'):
            new = new.replace('blocks.', 'layers.').replace('norm1', 'ln1').replace('norm2', 'ln2')
            new = new.replace('mlp.fc1', 'ffn.layers.0.0').replace('mlp.fc2', 'ffn.layers.1')
        elif key.startswith('norm.'):
            new = key.replace('norm.', 'ln1.')
        converted[f'backbone.{new}'] = value
    return converted


def write_vit_layout(layout: str, model, root, args=None) -> str:
    """``model`` (a timm ``VisionTransformer``) written as ``layout``'s own code writes it; returns the path.

    ``args``: what DINO / iBOT / MAE save as ``args`` instead of their ``argparse.Namespace`` (``dino_args()`` /
    ``mae_args()`` of the builders' ViT-Tiny by default)."""
    import torch
    state = dict(model.state_dict())
    backbone = {k: v for k, v in state.items() if not k.startswith('head.')}
    width = state['cls_token'].shape[-1]
    path = osp.join(root, f'{layout}.pth')
    if layout == 'timm':
        content = state
    elif layout in ('dino', 'ibot'):
        extra = {'masked_embed': torch.zeros(1, width)} if layout == 'ibot' else {}
        if args is None:
            args = dino_args(arch='vit_tiny', patch_size=4, out_dim=64, epochs=100)
        content = _dino_like(backbone, width, f'{layout}_loss', extra, args)
    elif layout == 'mocov3':
        path = osp.join(root, 'vit-s-300ep.pth.tar')
        content = {'epoch': 300, 'arch': 'vit_small', 'optimizer': _optimizer(),
                   'scaler': {'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                              'growth_interval': 2000, '_growth_tracker': 0},
                   'state_dict': {**{f'module.base_encoder.{k}': v for k, v in backbone.items()},
                                  **_moco_mlp('module.base_encoder.head.', width),
                                  **{f'module.momentum_encoder.{k}': v for k, v in _shifted(backbone, -1.0).items()},
                                  **_moco_mlp('module.momentum_encoder.head.', width),
                                  'module.predictor.0.weight': torch.zeros(32, 16)}}
    elif layout == 'mae':
        path = osp.join(root, 'checkpoint-399.pth')
        patch = state['patch_embed.proj.weight'].shape[-1]
        content = {'model': {**backbone, **_mae_decoder(width, state['pos_embed'].shape[1], patch * patch * 3)},
                   'optimizer': _optimizer(), 'epoch': 399, 'scaler': {'scale': 65536.0},
                   'args': mae_args(model='mae_vit_tiny_patch4', input_size=32) if args is None else args}
    elif layout == 'dinov2':
        content = dinov2_backbone(backbone)
    elif layout == 'dinov2-teacher':
        path = osp.join(root, 'teacher_checkpoint.pth')
        content = {'teacher': {**{f'backbone.{k}': v for k, v in dinov2_backbone(backbone).items()},
                               **_dino_head('dino_head.', width)}}
    elif layout == 'dinov2-train':
        path = osp.join(root, 'model_0012499.pth')
        teacher, student = dinov2_backbone(backbone, chunks=2), dinov2_backbone(_shifted(backbone, 1.0), chunks=2)
        content = {'model': {**{f'student.backbone.{k}': v for k, v in student.items()},
                             **_dino_head('student.dino_head.', width),
                             **{f'teacher.backbone.{k}': v for k, v in teacher.items()},
                             **_dino_head('teacher.dino_head.', width)},
                   'optimizer': _optimizer(), 'iteration': 12499}
    elif layout == 'torchvision-vit':
        content = _torchvision(state)
    elif layout == 'mmpretrain-vit':
        content = {'meta': {'epoch': 300, 'mmengine_version': '0.10.0'}, 'state_dict': _mmpretrain(state),
                   'message_hub': {'log_scalars': {}}, 'optimizer': _optimizer()}
    elif layout == 'mmssl':
        content = {'meta': {'epoch': 100}, 'state_dict': {**{f'backbone.{k}': v for k, v in backbone.items()},
                                                          'head.mlp.0.weight': torch.zeros(8, width)}}
    elif layout == 'ddp':
        content = {'state_dict': {f'module.{k}': v for k, v in state.items()}}
    elif layout == 'backbone':
        content = backbone
    else:
        raise KeyError(layout)
    torch.save(content, path)
    return path
