"""res5 shared head with a norm layer after it, for C4 detectors (registered in mmdet's ``MODELS``).

This module imports mmdet, so nothing in mmssl imports it: mmdet configs load it with
``custom_imports = dict(imports=['mmssl.models.utils.res_layer_extra_norm'])`` and use
``roi_head.shared_head.type='ResLayerExtraNorm'``.
"""
from mmcv.cnn import build_norm_layer
from mmdet.models.backbones import ResNet
from mmdet.models.roi_heads.shared_heads import ResLayer
from mmdet.registry import MODELS


@MODELS.register_module()
class ResLayerExtraNorm(ResLayer):
    """mmdet's res5 ``ResLayer`` followed by one more norm layer on its output.

    Self-supervised features come out of res5 with statistics unlike a supervised network's; the C4 transfer
    protocol (docs/en/benchmarks/detection_segmentation.md, as in the MoCo detectron2 configs) normalises them
    before the box head. The res5
    weights keep their names (``layer4.*``), so they load from a checkpoint's ``backbone.layer4.*`` with
    ``prefix='backbone.'``; the extra norm (``norm.*``) is new and starts as identity (weight 1, bias 0).

    Takes the arguments of :class:`mmdet.models.roi_heads.shared_heads.ResLayer`.
    """

    def __init__(self, depth: int, *args, **kwargs):
        super().__init__(depth, *args, **kwargs)
        block = ResNet.arch_settings[depth][0]
        out_channels = 64 * 2**self.stage * block.expansion
        self.add_module('norm', build_norm_layer(self.norm_cfg, out_channels)[1])

    def forward(self, x):
        return self.norm(super().forward(x))
