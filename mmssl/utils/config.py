"""``--cfg-options`` that cannot silently miss: a top-level key nobody reads is an error with the closest names."""
import difflib

from mmengine.config import Config

# What mmengine's Runner.from_cfg reads besides the config's own keys (mmengine/runner/runner.py).
RUNNER_KEYS = ('model', 'work_dir', 'experiment_name', 'train_dataloader', 'val_dataloader', 'test_dataloader',
               'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
               'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from',
               'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer', 'default_scope',
               'randomness', 'model_wrapper_cfg', 'custom_imports')


def merge_cfg_options(cfg: Config, options: dict) -> Config:
    """Merge ``--cfg-options`` into ``cfg``, refusing a top-level key that is neither in the config nor read by
    the Runner (``randomnes.seed=1`` would otherwise be added and ignored).

    Raises:
        KeyError: naming the option, the config and the closest known keys.
    """
    known = set(cfg.keys()) | set(RUNNER_KEYS)
    for option in options or {}:
        top = option.split('.')[0]
        if top not in known:
            close = difflib.get_close_matches(top, sorted(known), n=3, cutoff=0.5)
            hint = f'; did you mean {", ".join(close)}?' if close else ''
            raise KeyError(f'--cfg-options {option}: {cfg.filename or "the config"} has no top-level key {top!r} '
                           f'and the Runner reads none{hint}')
    if options:
        cfg.merge_from_dict(options)
    return cfg
