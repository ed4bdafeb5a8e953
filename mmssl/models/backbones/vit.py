"""Vision Transformer backbone: timm's ``VisionTransformer`` with the taps the self-supervised benchmarks read."""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule

from mmssl.registry import MODELS

from ..utils.taps import Tap, TapsMixin

#: (embed_dim, depth, num_heads) of timm's ``vit_tiny`` / ``vit_small`` / ``vit_base`` / ``vit_large`` models.
VIT_ARCHS = {
    'tiny': (192, 12, 3),
    'small': (384, 12, 6),
    'base': (768, 12, 12),
    'large': (1024, 24, 16),
}
#: The composite class-token taps cover the last 1 … 4 blocks: DINO's ``n_last_blocks`` (4 for ViT-S, 1 for
#: ViT-B) and DINOv2's ``n_last_blocks_list = [1, 4]``.
MAX_LAST_BLOCKS = 4
#: ``'adaptive'`` pooling of a block's patch-token map: 2x2, the side ResNet's last tap reaches (feature5).
MAP_ADAPTIVE_SIZE = 2


def vit_arch(arch: Union[str, Mapping]) -> Tuple[int, int, int]:
    """(embed_dim, depth, num_heads) of ``arch``: a name of :data:`VIT_ARCHS` or a dict of those three keys."""
    if isinstance(arch, str):
        if arch not in VIT_ARCHS:
            raise ValueError(f'VisionTransformer arch must be one of {", ".join(VIT_ARCHS)} or a dict of '
                             f'embed_dim, depth and num_heads, got {arch!r}')
        return VIT_ARCHS[arch]
    keys = ('embed_dim', 'depth', 'num_heads')
    if not isinstance(arch, Mapping) or set(arch) != set(keys):
        raise ValueError(f'VisionTransformer arch as a dict has exactly the keys {", ".join(keys)}, got {arch!r}')
    return tuple(int(arch[key]) for key in keys)


def vit_taps(embed_dim: int, depth: int, patch_size: int) -> Tuple[Tap, ...]:
    """Every tap of a ViT of width ``embed_dim`` and ``depth`` blocks, in network order.

    Per block i (1 … depth): ``block{i}_cls`` (class token), ``block{i}_mean`` (mean of the patch tokens), both
    vector taps of ``embed_dim`` channels, and ``block{i}_map`` (the patch tokens as an (N, C, h, w) map, stride
    ``patch_size``, adaptive pooling to 2x2). Then the composites of the linear protocols, for n = 1 …
    min(4, depth): ``cls_last{n}`` (the class tokens of the last n blocks, n·C) and ``cls_last{n}_mean`` (those
    and the mean patch token of the last block, (n+1)·C).
    """
    taps = []
    for block in range(1, depth + 1):
        taps += [Tap(f'block{block}_cls', embed_dim, patch_size, 1, vector=True),
                 Tap(f'block{block}_mean', embed_dim, patch_size, 1, vector=True),
                 Tap(f'block{block}_map', embed_dim, patch_size, MAP_ADAPTIVE_SIZE)]
    for n in range(1, min(MAX_LAST_BLOCKS, depth) + 1):
        taps += [Tap(f'cls_last{n}', n * embed_dim, patch_size, 1, vector=True),
                 Tap(f'cls_last{n}_mean', (n + 1) * embed_dim, patch_size, 1, vector=True)]
    return tuple(taps)


def _tap_recipe(name: str, depth: int) -> Tuple[str, Tuple[int, ...]]:
    """(kind, 0-based blocks it reads) of a tap named by :func:`vit_taps`; kind is cls / mean / map / last /
    last_mean."""
    if name.startswith('cls_last'):
        n = int(name[len('cls_last'):].split('_')[0])
        return ('last_mean' if name.endswith('_mean') else 'last'), tuple(range(depth - n, depth))
    block, kind = name[len('block'):].split('_')
    return kind, (int(block) - 1, )


@MODELS.register_module()
class VisionTransformer(TapsMixin, BaseModule):
    """Vision Transformer (timm's ``VisionTransformer``) with per-block and composite taps.

    The network is timm's own (``timm.models.vision_transformer.VisionTransformer``, no classifier head), and so is
    the state dict: ``cls_token``, ``pos_embed``, ``reg_token``, ``patch_embed.proj.*``, ``blocks.{i}.*``,
    ``norm.*``, with no prefix, so a timm backbone state dict loads with ``load_state_dict`` unchanged. The timm
    model is held as ``timm_model`` (not a submodule) and this module's parameter, buffer and submodule registries
    ARE the timm model's: the keys are timm's and anything that replaces a tensor here replaces it there too.
    Subclassing timm's class would give the same keys but import timm (about a second) with ``mmssl.models``, in
    every command; timm is imported when a ViT is built.

    Features follow DINO's ``get_intermediate_layers`` (``vision_transformer.py``), which DINOv2 and timm's
    ``forward_intermediates(norm=True)`` repeat: every block output taken is passed through the final LayerNorm
    (``norm``) first. The class token of the last block is then timm's ``forward_features(x)[:, 0]``, the feature
    DINO, DINOv2, MoCo v3 and MAE (class-token linear probe) evaluate. Register tokens are in no tap and not in
    the patch mean (DINOv2 drops them the same way).

    Taps (:func:`vit_taps`), for an input of S×S pixels, C = embed_dim, h = w = S // patch_size:

    ======================  ===================  ==================================================
    name                    shape                what
    ======================  ===================  ==================================================
    ``block{i}_cls``        (N, C, 1, 1)         class token after block i (1-based), normed
    ``block{i}_mean``       (N, C, 1, 1)         mean of the patch tokens after block i, normed
    ``block{i}_map``        (N, C, h, w)         patch tokens after block i, normed, as a map
    ``cls_last{n}``         (N, n·C, 1, 1)       class tokens of the last n blocks, first to last
    ``cls_last{n}_mean``    (N, (n+1)·C, 1, 1)   ``cls_last{n}`` then the last block's patch mean
    ======================  ===================  ==================================================

    The vector taps (all but ``block{i}_map``) are already pooled: every pooling type leaves them as they are
    (:attr:`Tap.vector`). ``cls_last{n}_mean`` concatenates as DINOv2's ``create_linear_input`` does (``[cls …,
    mean]``); DINO's ``eval_linear.py`` (n = 1 only) interleaves the same 2C numbers, a fixed permutation.

    Args:
        arch: ``'tiny'`` / ``'small'`` / ``'base'`` / ``'large'`` (timm's widths, depths and heads:
            :data:`VIT_ARCHS`), or a dict of ``embed_dim``, ``depth``, ``num_heads``.
        patch_size: side of a patch in pixels (16, 14 for DINOv2, 8; any positive value).
        img_size: the input side the position embeddings are stored for (224; 518 for DINOv2's hub models): it
            sets the shape of ``pos_embed`` and so must match the checkpoint. Other input sizes work: timm's
            ``dynamic_img_size=True`` resamples the embeddings (bicubic, antialiased) to the input's grid at every
            forward.
        in_channels: image channels.
        num_register_tokens: DINOv2 register tokens (timm ``reg_tokens``). With registers the position
            embeddings cover the patches only (timm ``no_embed_class=True``), as timm's DINOv2-with-registers models
            are built: the class token's position embedding is folded into ``cls_token`` when such weights are
            converted to timm's layout.
        layer_scale_init_value: DINOv2's LayerScale (timm ``init_values``; ``blocks.{i}.ls1.gamma`` /
            ``ls2.gamma``), ``None`` for none.
        num_heads: attention heads, overriding the arch's. A state dict does not record it; MoCo v3's ViT-S has
            12 heads where timm's has 6, so configs of such weights must set it.
        drop_path_rate: stochastic depth rate (fine-tuning).
        out_taps: names of the taps ``forward`` returns, in that order.
        init_cfg: mmengine init config (``Pretrained``, ``SeededRandom``); ``None`` gives timm's initialisation.
    """

    def __init__(self,
                 arch: Union[str, Mapping] = 'base',
                 patch_size: int = 16,
                 img_size: int = 224,
                 in_channels: int = 3,
                 num_register_tokens: int = 0,
                 layer_scale_init_value: Optional[float] = None,
                 num_heads: Optional[int] = None,
                 drop_path_rate: float = 0.,
                 out_taps: Sequence[str] = ('cls_last1', ),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        embed_dim, depth, arch_heads = vit_arch(arch)
        for value, what in ((patch_size, 'patch_size'), (img_size, 'img_size')):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'VisionTransformer {what} must be a positive int, got {value!r}')
        if img_size % patch_size:
            raise ValueError(f'VisionTransformer img_size {img_size} is not a multiple of patch_size {patch_size}')
        if not isinstance(num_register_tokens, int) or num_register_tokens < 0:
            raise ValueError(f'VisionTransformer num_register_tokens must be an int >= 0, got {num_register_tokens!r}')
        if isinstance(out_taps, str):
            raise ValueError(f'VisionTransformer out_taps is a list of tap names, got the string {out_taps!r}')
        # Imported here, not at the top: building a ViT is the only thing that needs timm.
        from timm.models.vision_transformer import VisionTransformer as TimmVisionTransformer
        timm_model = TimmVisionTransformer(
            img_size=img_size, patch_size=patch_size, in_chans=in_channels, num_classes=0, embed_dim=embed_dim,
            depth=depth, num_heads=num_heads or arch_heads, init_values=layer_scale_init_value,
            reg_tokens=num_register_tokens, no_embed_class=num_register_tokens > 0, dynamic_img_size=True,
            drop_path_rate=drop_path_rate)
        # One set of tensors and modules: this module's registries are the timm model's own dicts.
        self._parameters, self._buffers, self._modules = (timm_model._parameters, timm_model._buffers,
                                                          timm_model._modules)
        object.__setattr__(self, 'timm_model', timm_model)  # not a submodule: its keys would get a prefix
        self.embed_dim, self.depth, self.patch_size = embed_dim, depth, patch_size
        self.num_register_tokens = num_register_tokens
        self.taps = vit_taps(embed_dim, depth, patch_size)
        self.out_indices = self.tap_indices(list(out_taps))

    def init_weights(self) -> None:
        """Apply ``init_cfg``, or timm's default ViT initialisation (truncated normal, std 0.02) without one."""
        if self.init_cfg is not None:
            super().init_weights()
            return
        self.timm_model.init_weights()

    def train(self, mode: bool = True):
        super().train(mode)
        self.timm_model.training = mode  # the children are shared; the timm root's own flag follows
        return self

    def block_outputs(self, x: torch.Tensor, blocks: Sequence[int]) -> Dict[int, Tuple[torch.Tensor, torch.Tensor]]:
        """Normed outputs of the 0-based ``blocks`` for a batch ``x`` (N, 3, H, W): block -> (class token (N, C),
        patch map (N, C, H // patch_size, W // patch_size)). The forward stops after the last block asked for."""
        blocks = sorted(set(blocks))
        outputs = self.timm_model.forward_intermediates(
            x, indices=blocks, norm=True, stop_early=True, output_fmt='NCHW', return_prefix_tokens=True,
            intermediates_only=True)
        # Prefix tokens are [class, registers…]: the class token is the first.
        return {block: (prefix[:, 0], patch_map) for block, (patch_map, prefix) in zip(blocks, outputs)}

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the taps in ``out_taps`` order for a batch ``x`` (N, 3, H, W): vector taps as (N, D, 1, 1),
        ``block{i}_map`` as (N, C, H // patch_size, W // patch_size)."""
        recipes = [_tap_recipe(tap.name, self.depth) for tap in self.out_taps]
        outputs = self.block_outputs(x, [block for _, blocks in recipes for block in blocks])
        return tuple(self._tap(kind, blocks, outputs) for kind, blocks in recipes)

    @staticmethod
    def _tap(kind: str, blocks: Tuple[int, ...], outputs: Dict[int, Tuple[torch.Tensor, torch.Tensor]]
             ) -> torch.Tensor:
        last_cls, last_map = outputs[blocks[-1]]
        if kind == 'map':
            return last_map
        if kind == 'cls':
            vector = last_cls
        elif kind == 'mean':
            vector = last_map.mean(dim=(2, 3))
        else:
            vector = torch.cat([outputs[block][0] for block in blocks]
                               + ([last_map.mean(dim=(2, 3))] if kind == 'last_mean' else []), dim=1)
        return vector[:, :, None, None]
