"""The one checkpoint loader of mmssl: read a file once, load it into a module by one policy, report one way.

Earlier toolboxes loaded a full algorithm checkpoint (``backbone.*`` keys) into a bare backbone with
``strict=False``, matched nothing and silently evaluated a random network; mmdet / mmseg do the same for a
checkpoint of another stem. Every path in mmssl goes through this package:

- :mod:`.reading`: :func:`read_checkpoint` reads a file once per process (hashed, unpickled weights-only); it is
  also mmengine's loader of local files (:func:`use_for_mmengine`).
- :mod:`.report`: :func:`load_state_dict_checked` copies matching entries into a module and refuses a checkpoint
  that barely fits; :func:`verify_loaded_weights` checks a module that another toolbox initialised. Both return
  a :class:`LoadReport`, which also counts the file's tensors that were left out (:mod:`.dropped`).
- :mod:`.weights`: :class:`BackboneWeights`, the backbone a benchmark evaluates (a checkpoint of any layout, or
  the seeded random network), built once by a command line and loaded with
  :meth:`BackboneWeights.load_into`; ``mmssl.models.utils.checkpoint_import.import_checkpoint`` writes one as an
  mmssl checkpoint.
"""
from .reading import (BACKBONE_PREFIX, DDP_PREFIX, CheckpointFile, CheckpointMismatchError, checkpoint_record,
                      load_checkpoint_state_dict, read_checkpoint, require_prefixed_checkpoint, select_prefix,
                      strip_ddp_prefix, use_for_mmengine)
from .report import (RANDOM_INIT_FORMAT, LoadReport, compare_module_weights, load_state_dict_checked, read_load_report,
                     verify_loaded_weights, write_load_report)
from .weights import BackboneWeights, init_random_backbone, load_backbone, parse_checkpoint_arg, read_backbone

__all__ = ['BACKBONE_PREFIX', 'DDP_PREFIX', 'CheckpointFile', 'CheckpointMismatchError', 'checkpoint_record',
           'load_checkpoint_state_dict', 'read_checkpoint', 'require_prefixed_checkpoint', 'select_prefix',
           'strip_ddp_prefix', 'use_for_mmengine', 'RANDOM_INIT_FORMAT', 'LoadReport', 'compare_module_weights',
           'load_state_dict_checked', 'verify_loaded_weights', 'read_load_report', 'write_load_report',
           'BackboneWeights', 'init_random_backbone', 'load_backbone', 'parse_checkpoint_arg', 'read_backbone']
