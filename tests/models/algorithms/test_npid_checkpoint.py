"""An NPID checkpoint in mmselfsup 1.x's layout loads into mmssl's NPID with its memory bank.

mmselfsup 1.x ``mmselfsup/models/algorithms/npid.py`` keeps the bank as ``self.memory_bank`` (``SimpleMemory``) whose
buffer is ``feature_bank`` (``mmselfsup/models/memories/simple_memory.py``); the neck is ``LinearNeck`` with ``fc``.
So its checkpoint keys are ``backbone.*``, ``neck.fc.*`` and ``memory_bank.feature_bank``.
"""
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmssl.models import ResNet
from mmssl.registry import MODELS
from mmssl.utils import register_all_modules


def test_a_toolbox_checkpoint_restores_the_bank(repo_root, tmp_path):
    register_all_modules()
    cfg = Config.fromfile(str(repo_root / 'configs/_base_/models/npid.py')).model
    cfg.backbone.depth, cfg.backbone.norm_cfg, cfg.neck.in_channels = 18, dict(type='BN'), 512
    cfg.memory_bank.length, cfg.head.num_negatives = 10, 4
    # The toolbox's checkpoint, written from its layout (not from mmssl's model).
    toolbox = {f'backbone.{k}': v for k, v in ResNet(depth=18).state_dict().items()}
    toolbox.update({'neck.fc.weight': torch.randn(128, 512), 'neck.fc.bias': torch.randn(128),
                    'memory_bank.feature_bank': F.normalize(torch.randn(10, 128), dim=1)})
    torch.save({'meta': {'epoch': 200}, 'state_dict': toolbox}, tmp_path / 'npid_1x.pth')

    model = MODELS.build(cfg)
    model.load_state_dict(torch.load(tmp_path / 'npid_1x.pth', weights_only=True)['state_dict'], strict=True)
    assert torch.equal(model.memory_bank.feature_bank, toolbox['memory_bank.feature_bank'])
    assert torch.equal(model.neck.fc.weight, toolbox['neck.fc.weight'])
