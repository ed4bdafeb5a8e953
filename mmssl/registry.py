"""Child registries of mmengine's root registries, all in scope ``mmssl``.

Each registry names the modules that hold its members in ``locations``, so building a config with
``default_scope='mmssl'`` imports them on demand and ``import mmssl`` stays light.
"""
import contextlib
import difflib
import re

from mmcv.transforms import TRANSFORMS as MMCV_TRANSFORMS
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'METRICS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS',
    'VISBACKENDS', 'BENCHMARKS', 'close_names', 'suggest_close_names'
]

RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['mmssl.engine'])
RUNNER_CONSTRUCTORS = Registry('runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS)
# BenchmarkHook runs benchmarks, so it lives at the benchmarks floor (a string here, imported when a hook is built)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmssl.engine', 'mmssl.benchmarks.watch'])
LOG_PROCESSORS = Registry('log processor', parent=MMENGINE_LOG_PROCESSORS)

DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['mmssl.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['mmssl.datasets'])
# mmcv's transforms (LoadImageFromFile, RandomFlip, ...) are reachable through the parent.
TRANSFORMS = Registry('transform', parent=MMCV_TRANSFORMS, locations=['mmssl.datasets.transforms'])

MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmssl.models'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['mmssl.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS, locations=['mmssl.models'])

OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry('optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS)

METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['mmssl.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR, locations=['mmssl.evaluation'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, locations=['mmssl.models'])

# Benchmark protocols run on a pre-trained checkpoint (svm, linear, knn, ...); mmssl's own root, no mmengine
# counterpart. A plugin registers its own with ``@BENCHMARKS.register_module()`` (docs/en/add_new_benchmark.md).
BENCHMARKS = Registry('benchmark', scope='mmssl', locations=['mmssl.benchmarks.all'])

VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS)
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS)


def _registry_by_name(scope: str, name: str) -> Registry:
    """The registry called ``scope::name`` among mmssl's registries and their ancestors."""
    for registry in (value for value in globals().values() if isinstance(value, Registry)):
        node = registry
        while node is not None:
            if node.scope == scope and node.name == name:
                return node
            node = node.parent
    return None


def close_names(registry: Registry, name: str, limit: int = 5) -> list:
    """Registered names closest to ``name`` in ``registry`` and its ancestors (case-insensitive)."""
    candidates = set()
    node = registry
    while node is not None:
        node.import_from_location()
        candidates.update(node.module_dict)
        node = node.parent
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=limit, cutoff=0.5)
    return [by_lower[match] for match in matches]


_UNKNOWN_TYPE = re.compile(r'(?P<type>\S+) is not in the (?P<scope>[^:\s]+)::(?P<name>.+?) registry')


@contextlib.contextmanager
def suggest_close_names():
    """Re-raise mmengine's "X is not in the scope::name registry" KeyError with the closest registered names."""
    try:
        yield
    except KeyError as error:
        match = _UNKNOWN_TYPE.search(str(error))
        registry = match and _registry_by_name(match['scope'], match['name'])
        if registry is None:
            raise
        suggestions = close_names(registry, match['type'].split('.')[-1])
        hint = f"did you mean {', '.join(suggestions)}?" if suggestions else 'no similar name is registered'
        raise KeyError(f"'{match['type']}' is not in the {match['scope']}::{match['name']} registry: {hint}") \
            from error
