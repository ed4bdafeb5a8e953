"""A relative-location checkpoint in mmselfsup 1.x's layout gives the same pretext logits in mmssl as in the
toolbox's own model, built here from its documented code:

- mmselfsup 1.x ``mmselfsup/models/algorithms/relative_loc.py``: the backbone runs on the 8B neighbour patches and
  on the 8B centre copies; ``torch.cat((x1[0], x2[0]), dim=1)`` puts the neighbour first, then the centre.
- ``mmselfsup/models/necks/relative_loc_neck.py``: avg-pool → flatten → ``fc`` (2C → out) → ``bn`` (BN1d, momentum
  0.003) → ReLU → dropout 0.5.
- ``mmselfsup/models/heads/cls_head.py``: ``fc_cls`` Linear (out → 8).
- Checkpoint keys: ``backbone.*`` (torchvision names), ``neck.fc.*``, ``neck.bn.*``, ``head.fc_cls.*``.
"""
import torch
from mmengine.config import Config
from torch import nn

from mmssl.datasets.transforms.relative_loc import CENTRE
from mmssl.models import ResNet
from mmssl.registry import MODELS
from mmssl.utils import register_all_modules

CONFIG = 'configs/_base_/models/relative-loc.py'


class ToolboxRelativeLoc(nn.Module):
    """mmselfsup 1.x's relative-location network, in its own module names."""

    def __init__(self, depth: int, in_channels: int, out_channels: int):
        super().__init__()
        self.backbone = ResNet(depth=depth, out_indices=[4])  # mmselfsup's ResNet keeps torchvision's names
        self.neck = nn.Module()
        self.neck.fc = nn.Linear(in_channels * 2, out_channels)
        self.neck.bn = nn.BatchNorm1d(out_channels, momentum=0.003)
        self.head = nn.Module()
        self.head.fc_cls = nn.Linear(out_channels, 8)

    def forward(self, neighbours: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        x = torch.cat((self.backbone(neighbours)[0], self.backbone(centres)[0]), dim=1)
        x = torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        x = nn.functional.dropout(torch.relu(self.neck.bn(self.neck.fc(x))), 0.5, self.training)
        return self.head.fc_cls(x)


def test_a_toolbox_checkpoint_gives_the_toolbox_logits(repo_root):
    register_all_modules()
    cfg = Config.fromfile(str(repo_root / CONFIG)).model
    cfg.backbone.depth, cfg.neck.in_channels, cfg.neck.out_channels, cfg.head.in_channels = 18, 512, 64, 64
    torch.manual_seed(0)
    toolbox = ToolboxRelativeLoc(18, 512, 64).eval()
    with torch.no_grad():
        for param in toolbox.parameters():
            param.normal_(0, 0.05)
        toolbox.neck.bn.running_mean.normal_(0, 0.1)
        toolbox.neck.bn.running_var.uniform_(0.5, 1.5)
    checkpoint = toolbox.state_dict()
    model = MODELS.build(cfg).eval()
    assert set(model.state_dict()) == set(checkpoint)  # the toolbox's keys, head.fc_cls included
    model.load_state_dict(checkpoint, strict=True)

    patches = torch.randn(2, 9, 3, 32, 32)
    neighbours = patches[:, list(model.neighbours)].flatten(0, 1)
    centres = patches[:, CENTRE:CENTRE + 1].expand(-1, 8, -1, -1, -1).flatten(0, 1)
    with torch.no_grad():
        torch.testing.assert_close(model.pair_logits(patches), toolbox(neighbours, centres), rtol=0, atol=1e-5)
