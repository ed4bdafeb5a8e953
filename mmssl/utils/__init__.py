from .checkpoint import (CheckpointMismatchError, LoadReport, load_checkpoint_checked, load_checkpoint_state_dict,
                         load_state_dict_checked, select_prefix)
from .dist import convert_sync_bn_cfg, init_distributed, prepare_cpu_launch, teardown_distributed
from .pretrained import infer_backbone_prefix, set_backbone_checkpoint
from .setup_env import register_all_modules
from .torch_serialization import allow_mmengine_checkpoints
from .weights_check import WeightsComparison, compare_module_weights, require_prefixed_checkpoint, verify_loaded_weights

__all__ = [
    'CheckpointMismatchError', 'LoadReport', 'load_checkpoint_checked', 'load_checkpoint_state_dict',
    'load_state_dict_checked', 'select_prefix', 'convert_sync_bn_cfg', 'init_distributed', 'prepare_cpu_launch',
    'teardown_distributed', 'register_all_modules', 'allow_mmengine_checkpoints', 'infer_backbone_prefix',
    'set_backbone_checkpoint', 'WeightsComparison', 'compare_module_weights', 'require_prefixed_checkpoint',
    'verify_loaded_weights'
]
