"""Which checkpoint ``--resume`` continues from, and whether a checkpoint can be resumed by the model at all.

mmengine resumes from the file named in ``<work_dir>/last_checkpoint`` and, when that file is missing, silently
trains from iteration 1 and overwrites the checkpoints that are there. :func:`find_resume_checkpoint` instead:

- reads ``last_checkpoint`` relative to the work dir: a file of the same name in the work dir wins over the path
  written in it, so a copied or moved work dir resumes from its own files;
- without a usable ``last_checkpoint``, takes the highest-numbered ``iter_N.pth`` / ``epoch_N.pth``;
- skips a checkpoint that cannot be read (truncated by a crash), logging an error that names it, and falls back to
  the previous one; refuses when checkpoints are there but none can be read.

:func:`check_resumable` refuses a checkpoint of another config (not a training checkpoint, or other model keys)
with a message naming the file and what was expected, instead of mmengine's ``KeyError: 'epoch'``.
"""
import logging
import os
import os.path as osp
import re
from typing import List, Optional

import torch
from mmengine.logging import print_log

from mmssl.utils.checkpoint import DDP_PREFIX, CheckpointFile, CheckpointMismatchError, read_checkpoint

__all__ = ['numbered_checkpoints', 'find_resume_checkpoint', 'check_resumable']

LAST_CHECKPOINT = 'last_checkpoint'
NUMBERED = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def numbered_checkpoints(work_dir: str) -> List[str]:
    """The ``iter_N.pth`` / ``epoch_N.pth`` files of ``work_dir``, highest N first."""
    if not osp.isdir(work_dir):
        return []
    found = [(int(match[1]), name) for name in os.listdir(work_dir) if (match := NUMBERED.match(name))]
    return [osp.join(work_dir, name) for _, name in sorted(found, reverse=True)]


def _from_last_checkpoint(work_dir: str, logger) -> Optional[str]:
    """The checkpoint ``last_checkpoint`` names, resolved against ``work_dir``; None when it names none that
    exists (logged)."""
    record = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(record):
        return None
    with open(record) as f:
        named = f.read().strip()
    if not named:
        print_log(f'{record} is empty; looking for the newest checkpoint instead', logger, logging.WARNING)
        return None
    own = osp.join(work_dir, osp.basename(named))
    if osp.isfile(own):
        if osp.abspath(own) != osp.abspath(osp.join(work_dir, named)):
            print_log(f'{record} names {named}; resuming from this work dir\'s own {own} (the work dir was copied '
                      'or moved)', logger)
        return own
    print_log(f'{record} names {named}, which is not in {work_dir}; looking for the newest checkpoint instead',
              logger, logging.WARNING)
    return None


def find_resume_checkpoint(work_dir: str, logger='current') -> Optional[str]:
    """The checkpoint ``--resume`` (without a file) continues from, or None when ``work_dir`` has none.

    Raises:
        CheckpointMismatchError: checkpoints are there but none can be read; the message names each file and why.
    """
    work_dir = osp.abspath(work_dir)
    candidates = numbered_checkpoints(work_dir)
    last = _from_last_checkpoint(work_dir, logger)
    if last is not None:
        candidates = [last] + [path for path in candidates if path != last]
    elif candidates:
        print_log(f'{work_dir} has no usable {LAST_CHECKPOINT}; trying its highest-numbered checkpoint first',
                  logger, logging.WARNING)
    failures, failed = [], []
    for path in candidates:
        try:
            read_checkpoint(path)
        except CheckpointMismatchError as error:
            failures.append(str(error))
            failed.append(osp.basename(path))
            following = (f'falling back to {osp.basename(candidates[len(failed)])}' if len(failed) < len(candidates)
                         else 'no older checkpoint left')
            print_log(f'cannot resume from {path} (truncated or damaged?): {error}; {following}', logger,
                      logging.ERROR)
            continue
        skipped = f' (newer ones cannot be read: {", ".join(failed)})' if failed else ''
        print_log(f'resuming from {path}{skipped}', logger)
        return path
    if failures:
        raise CheckpointMismatchError(
            f'--resume: none of the checkpoints in {work_dir} can be read, refusing to start from iteration 1 over '
            f'them: {"; ".join(failures)}. Remove the damaged files, or resume from a good copy with --resume FILE')
    print_log(f'--resume: {work_dir} has no checkpoint yet; training starts from the beginning', logger)
    return None


def check_resumable(path: str, model: torch.nn.Module) -> CheckpointFile:
    """Read ``path`` and make sure ``model`` can resume from it: a training checkpoint (``meta`` with ``epoch``
    and ``iter``, ``state_dict``) holding exactly the model's keys with the model's shapes.

    Raises:
        CheckpointMismatchError: naming the file and what was expected.
    """
    file = read_checkpoint(path)
    content = file.content
    meta = content.get('meta') if isinstance(content, dict) else None
    if not isinstance(meta, dict) or 'epoch' not in meta or 'iter' not in meta or 'state_dict' not in content:
        keys = ', '.join(map(str, list(content)[:8])) if isinstance(content, dict) else type(content).__name__
        raise CheckpointMismatchError(
            f'cannot resume from {file.path}: expected a training checkpoint written by tools/train.py (keys "meta" '
            f'with "epoch" and "iter", "state_dict", "optimizer"), it has: {keys}. To start a new training from its '
            'weights use load_from (--cfg-options load_from=FILE) instead of --resume')
    saved = {key[len(DDP_PREFIX):] if key.startswith(DDP_PREFIX) else key: value
             for key, value in content['state_dict'].items()}
    own = model.state_dict()
    missing = [key for key in own if key not in saved]
    unexpected = [key for key in saved if key not in own]
    shapes = [f'{key} {tuple(saved[key].shape)} vs {tuple(own[key].shape)}' for key in own
              if key in saved and tuple(saved[key].shape) != tuple(own[key].shape)]
    if missing or unexpected or shapes:
        problems = [f'{len(items)} {what} (e.g. {", ".join(items[:4])})'
                    for items, what in ((missing, 'model keys missing'), (unexpected, 'unexpected keys'),
                                        (shapes, 'shapes differ, checkpoint vs model'))
                    if items]
        raise CheckpointMismatchError(
            f'cannot resume from {file.path}: it was written for another model or config than '
            f'{type(model).__name__}: {"; ".join(problems)}. Resume with the config that wrote it, or start a new '
            'training from its weights with load_from')
    return file
