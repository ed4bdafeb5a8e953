"""Fitting a Vision Transformer checkpoint's position embedding to the model it loads into.

A checkpoint trained at another resolution (DINOv2's 518-px, 37 x 37 grid for a 224-px or a 32-px model) has a
position embedding of another grid: it is resampled (bicubic, antialiased, as timm's ``resample_abs_pos_embed`` and
DINOv2's ``interpolate_pos_encoding`` do), not refused. Projects also differ in which tokens get a position: DINO,
MAE, MoCo v3 and timm by default add one to the class token (``pos_embed`` of ``1 + N`` rows); DINOv2 gives its
register tokens none; timm with ``no_embed_class=True`` gives no prefix token any. The rows are moved to the
model's convention without changing what the network computes: a position folded into its token (``cls_token +
pos_embed[:, 0]``) or a zero row for a token that had none.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

__all__ = ['fit_position_embedding']

POS_KEY = 'pos_embed'


def _tokens(state_dict: Dict[str, torch.Tensor], key: str) -> int:
    value = state_dict.get(key)
    return int(value.shape[1]) if value is not None and value.ndim == 3 else 0


def _prefix_rows(rows: int, candidates: Sequence[int]) -> Optional[int]:
    """The first number of leading rows that leaves a square grid of patch rows, or None."""
    for prefix in candidates:
        grid = rows - prefix
        if grid > 0 and math.isqrt(grid) ** 2 == grid:
            return prefix
    return None


def _resample(grid: torch.Tensor, size: int) -> torch.Tensor:
    """``grid`` (1, g*g, D) resampled to (1, size*size, D), bicubic and antialiased, computed in float32."""
    side = math.isqrt(grid.shape[1])
    image = grid.float().reshape(1, side, side, -1).permute(0, 3, 1, 2)
    image = F.interpolate(image, size=(size, size), mode='bicubic', antialias=True, align_corners=False)
    return image.permute(0, 2, 3, 1).reshape(1, size * size, -1).to(grid.dtype)


def _token_positions(pos: torch.Tensor, prefix: int, tokens: Sequence[str],
                     counts: Dict[str, int]) -> Dict[str, torch.Tensor]:
    """The position rows of each prefix token kind (``cls_token``, ``reg_token``) in the first ``prefix`` rows of
    ``pos``; a kind without rows gets zeros."""
    rows, start = {}, 0
    covered = sum(counts[name] for name in tokens) == prefix
    for name in tokens:
        if covered or (name == 'cls_token' and prefix == counts[name]):
            rows[name] = pos[:, start:start + counts[name]]
            start += counts[name]
        else:
            rows[name] = pos.new_zeros(1, counts[name], pos.shape[-1])
    return rows


def fit_position_embedding(module_state: Dict[str, torch.Tensor], state_dict: Dict[str, torch.Tensor],
                           embeds_prefix: Optional[bool] = None) -> Tuple[Dict[str, torch.Tensor], List[str]]:
    """``state_dict`` with its ``pos_embed`` fitted to the module's (grid resampled, prefix rows moved), and what
    was done, one phrase per change (``'pos_embed resampled from a 37x37 to an 8x8 grid'``).

    Nothing changes when either has no ``pos_embed``, the widths differ or a grid cannot be told (the fit policy
    then names the mismatch), or the prefix tokens differ in number (register tokens: the policy names them).

    Args:
        module_state: the module's state dict (shapes and its convention).
        state_dict: the checkpoint's entries with timm names.
        embeds_prefix: whether the module's ``pos_embed`` has rows for its prefix tokens (timm's ``not
            no_embed_class``); ``None``: told from its number of rows.
    """
    if POS_KEY not in module_state or POS_KEY not in state_dict or state_dict[POS_KEY].ndim != 3:
        return state_dict, []
    target, pos = module_state[POS_KEY], state_dict[POS_KEY]
    tokens = [name for name in ('cls_token', 'reg_token') if name in module_state]
    counts = {name: _tokens(module_state, name) for name in tokens}
    if pos.shape[-1] != target.shape[-1] or any(_tokens(state_dict, name) != counts[name] for name in tokens):
        return state_dict, []
    all_prefix, cls = sum(counts.values()), counts.get('cls_token', 0)
    own = _prefix_rows(target.shape[1], (all_prefix, 0) if embeds_prefix is None
                       else ((all_prefix, ) if embeds_prefix else (0, )))
    theirs = _prefix_rows(pos.shape[1], (own, cls, all_prefix, 0) if own is not None else ())
    if own is None or theirs is None or (own == theirs and pos.shape == target.shape):
        return state_dict, []
    fitted, notes = dict(state_dict), []
    grid, size = pos[:, theirs:], math.isqrt(target.shape[1] - own)
    if grid.shape[1] != size * size:
        notes.append(f'{POS_KEY} resampled from a {math.isqrt(grid.shape[1])}x{math.isqrt(grid.shape[1])} to a '
                     f'{size}x{size} grid')
        grid = _resample(grid, size)
    rows = _token_positions(pos, theirs, tokens, counts)
    if own:
        fitted[POS_KEY] = torch.cat([rows[name] for name in tokens] + [grid], dim=1)
    else:
        fitted[POS_KEY] = grid
        for name in tokens:  # the model adds no position to its prefix tokens: each keeps its own folded in
            if rows[name].abs().sum() > 0:
                fitted[name] = state_dict[name] + rows[name]
    if own != theirs:
        notes.append(f'{POS_KEY} rows of the prefix tokens moved from {theirs} to {own} (the model\'s convention)')
    return fitted, notes
