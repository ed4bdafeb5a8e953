from .checkpoint import (BackboneWeights, CheckpointFile, CheckpointMismatchError, LoadReport, compare_module_weights,
                         init_random_backbone, load_backbone, load_checkpoint_state_dict, load_state_dict_checked,
                         parse_checkpoint_arg, read_backbone, read_checkpoint, require_prefixed_checkpoint,
                         select_prefix, use_for_mmengine, verify_loaded_weights)
from .dist import convert_sync_bn_cfg, init_distributed, prepare_cpu_launch, teardown_distributed
from .errors import InputError
from .setup_env import register_all_modules, setup_runtime
from .torch_serialization import allow_mmengine_checkpoints

__all__ = [
    'BackboneWeights', 'CheckpointFile', 'CheckpointMismatchError', 'LoadReport', 'compare_module_weights',
    'init_random_backbone', 'load_backbone',
    'load_checkpoint_state_dict', 'load_state_dict_checked', 'parse_checkpoint_arg', 'read_backbone',
    'read_checkpoint', 'require_prefixed_checkpoint', 'select_prefix', 'use_for_mmengine', 'verify_loaded_weights',
    'convert_sync_bn_cfg', 'init_distributed', 'prepare_cpu_launch', 'teardown_distributed', 'register_all_modules',
    'setup_runtime', 'allow_mmengine_checkpoints', 'InputError'
]
