"""Checkpoint files in each layout the loader reads: mmssl's own, backbone-only, torchvision / timm, DDP, MoCo,
VISSL and detectron2, written as each project's own code writes them.

- MoCo v1 / v2: ``main_moco.py`` saves ``{'epoch', 'arch', 'state_dict': model.state_dict(), 'optimizer'}`` of a
  DistributedDataParallel-wrapped ``MoCo`` (``encoder_q``, ``encoder_k``, buffers ``queue`` / ``queue_ptr``; the
  v2 MLP head is ``fc.0`` / ``fc.2``). MoCo v3: the same with ``base_encoder`` / ``momentum_encoder`` /
  ``predictor``.
- VISSL: ``classy_state_dict.base_model.model`` with ``trunk`` (the ResNeXt trunk keeps its layers in
  ``_feature_blocks``) and ``heads``.
- detectron2: ``convert-pretrain-to-detectron2.py`` pickles ``{'model': {name: numpy array}, '__author__',
  'matching_heuristics'}`` with ``stem.conv1``, ``resN.B.convK.norm`` and ``shortcut`` names.
- timm: ``timm.create_model('resnet50').state_dict()`` names ResNet-50 exactly as torchvision does.
- old torchvision files and VISSL's torchvision conversion have no ``num_batches_tracked``.
"""
import os.path as osp


def save_resnet_checkpoint(path, depth: int, full: bool = True) -> dict:
    """A randomly initialised ResNet saved as tools/train.py would (``full``: ``backbone.`` keys) or backbone-only.

    Returns the backbone's state dict.
    """
    import torch

    from mmssl.models import ResNet
    backbone = ResNet(depth=depth)
    backbone.init_weights()
    state = {('backbone.' if full else '') + k: v for k, v in backbone.state_dict().items()}
    torch.save({'state_dict': state, 'meta': {'iter': 1}}, path)
    return backbone.state_dict()


def torchvision_resnet50(seed: int = 0):
    """A torchvision ResNet-50 with random weights and random BN statistics (so nothing passes by default)."""
    import torch
    import torchvision
    torch.manual_seed(seed)
    model = torchvision.models.resnet50()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.1)
                module.running_mean.normal_(0, 0.1)
                module.running_var.uniform_(0.5, 1.5)
                module.num_batches_tracked.fill_(7)
    return model.eval()


def without_counters(state):
    """``state`` without the BatchNorm ``num_batches_tracked`` counters (as old torchvision files are)."""
    return {k: v for k, v in state.items() if not k.endswith('num_batches_tracked')}


def write_layout(layout: str, state: dict, root) -> str:
    """``state`` (a torchvision ResNet-50 state dict, with fc) written as ``layout``'s own code writes it."""
    import pickle

    import torch

    from mmssl.utils.resnet_keys import resnet_to_detectron2
    backbone = {k: v for k, v in state.items() if not k.startswith('fc.')}
    mlp = {'fc.0.weight': torch.zeros(2048, 2048), 'fc.0.bias': torch.zeros(2048),
           'fc.2.weight': torch.zeros(128, 2048), 'fc.2.bias': torch.zeros(128)}
    path = osp.join(root, f'{layout}.pth')
    if layout == 'mmssl':
        content = {'meta': {'epoch': 70},
                   'state_dict': {**{f'backbone.{k}': v for k, v in backbone.items()},
                                  'neck.fc.weight': torch.zeros(4096, 4096 * 2),
                                  'head.fc_cls.weight': torch.zeros(8, 4096)}}
    elif layout == 'backbone':
        content = {'state_dict': backbone}
    elif layout in ('torchvision', 'timm'):
        content = state
    elif layout == 'torchvision-old':
        content = without_counters(state)
    elif layout == 'vissl-torchvision':
        content = without_counters(backbone)
    elif layout == 'moco':
        path = osp.join(root, 'moco_v2_800ep_pretrain.pth.tar')
        encoder = {**backbone, **mlp}
        content = {'epoch': 800, 'arch': 'resnet50', 'optimizer': {'state': {}, 'param_groups': []},
                   'state_dict': {**{f'module.encoder_q.{k}': v for k, v in encoder.items()},
                                  **{f'module.encoder_k.{k}': v.clone() + 1 for k, v in encoder.items()},
                                  'module.queue': torch.zeros(128, 16), 'module.queue_ptr': torch.zeros(1)}}
    elif layout == 'mocov3':
        path = osp.join(root, 'r-50-300ep.pth.tar')
        encoder = {**backbone, **mlp}
        content = {'epoch': 300, 'arch': 'resnet50', 'optimizer': {'state': {}, 'param_groups': []},
                   'state_dict': {**{f'module.base_encoder.{k}': v for k, v in encoder.items()},
                                  **{f'module.momentum_encoder.{k}': v.clone() - 1 for k, v in encoder.items()},
                                  'module.predictor.0.weight': torch.zeros(4096, 256)}}
    elif layout == 'ddp':
        content = {'state_dict': {f'module.{k}': v for k, v in state.items()}}
    elif layout == 'vissl':
        path = osp.join(root, 'model_final_checkpoint_phase199.torch')
        content = {'phase_idx': 199, 'iteration': 1000, 'type': 'checkpoint',
                   'classy_state_dict': {'base_model': {'model': {
                       'trunk': {f'_feature_blocks.{k}': v for k, v in backbone.items()},
                       'heads': {'0.clf.0.weight': torch.zeros(128, 2048)}}}}}
    elif layout == 'detectron2':
        path = osp.join(root, 'moco_v2_800ep.pkl')
        with open(path, 'wb') as f:
            pickle.dump({'model': resnet_to_detectron2(backbone), '__author__': 'MOCO',
                         'matching_heuristics': True}, f)
        return path
    else:
        raise KeyError(layout)
    torch.save(content, path)
    return path


LAYOUTS = {'mmssl': 'mmssl', 'backbone': 'backbone', 'torchvision': 'torchvision', 'timm': 'torchvision',
           'torchvision-old': 'torchvision', 'vissl-torchvision': 'backbone', 'moco': 'moco', 'mocov3': 'mocov3',
           'ddp': 'ddp', 'vissl': 'vissl', 'detectron2': 'detectron2'}


def resnet18_state(seed: int) -> dict:
    """The state dict of an mmssl ResNet-18 initialised from ``seed`` (two seeds: two different backbones)."""
    import torch

    from mmssl.models import ResNet
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        backbone = ResNet(depth=18)
        backbone.init_weights()
    return backbone.state_dict()


def write_two_weight_sets(path, state_dict: dict, model: dict) -> str:
    """A checkpoint holding two weight sets, ``state_dict`` and ``model`` (as some training scripts save an EMA or
    fine-tuned copy beside the weights), each with ``backbone.*`` keys."""
    import torch
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state_dict.items()},
                'model': {f'backbone.{k}': v for k, v in model.items()}, 'meta': {'epoch': 1}}, path)
    return str(path)


def write_prefixed_backbones(path, backbones: dict, extra: dict = None) -> str:
    """A checkpoint whose ``state_dict`` holds each of ``backbones`` (prefix -> ResNet state dict) under its prefix,
    plus ``extra`` entries (e.g. ``{'neck.fc.weight': ...}``)."""
    import torch
    state = {f'{prefix}{k}': v for prefix, backbone in backbones.items() for k, v in backbone.items()}
    torch.save({'state_dict': {**state, **(extra or {})}}, path)
    return str(path)
