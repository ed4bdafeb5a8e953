"""The model-zoo metafiles: loading, checking and their canonical text.

Sources, all under the repository root:

- ``model-index.yml``: ``Import:`` list of the per-method metafiles.
- ``configs/selfsup/<method>/metafile.yml`` (OpenMMLab model-index format): ``Collections`` (Name, Metadata,
  Paper, README) and ``Models`` (Name, In Collection, Config = pre-training config, Weights, Code, Paper,
  Metadata, Results). A model without a pre-training config is either a randomly initialised backbone
  (``Weights: random``) or a checkpoint released by its authors (``Weights: released`` and ``Code``: the URL, at a
  commit, of the README that publishes it). ``Results`` hold ONLY numbers measured by mmssl: a list of
  ``{Task, Dataset, Metrics, Config[, Notes]}`` where Config is the benchmark config and the optional Notes map a
  metric to free text shown beside it (the grid point a selection run chose for it, ``lr 0.1``; ``†`` where it was
  chosen on the split it is reported on). The model-index format's results have no free-text field (the
  ``modelindex`` library reads Task, Dataset and Metrics and ignores other keys), so Notes is a key of our own.
- ``configs/selfsup/<method>/published.yml`` (optional): numbers published elsewhere for the same models, in the
  same Results layout (plus an optional ``Source`` per result: the file and commit it was read from), kept in a
  separate file so that they can never be mistaken for ours.

Every (Task, Dataset) pair and metric name must belong to one of the model-zoo tables
(:data:`mmssl.benchmarks.tables.TABLES`, whose Task and columns are those the benchmarks declare). The ``modelindex``
library (``model-index`` on PyPI) checks that ``model-index.yml`` and every metafile parse as the OpenMMLab
model-index format (:func:`load_model_index`); the stricter checks here (known tables and metrics, configs that
exist, our numbers apart from published ones) come on top.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from mmssl.benchmarks.tables import ModelZooError, ordered_metrics, result_sort_key, table_for
from mmssl.benchmarks.tables.layout import fail

MODEL_INDEX = 'model-index.yml'
PUBLISHED_FILE = 'published.yml'
METAFILE_HEADER = ('# Model-zoo metadata (OpenMMLab model-index format). Results hold numbers measured by mmssl\n'
                   '# only; numbers published elsewhere live in published.yml. Rewritten in canonical order by\n'
                   '# tools/analysis_tools/gen_model_zoo.py --add-result; regenerate the tables after editing.\n')
_MODEL_KEYS = ('Name', 'In Collection', 'Config', 'Weights', 'Code', 'Paper', 'Metadata', 'Results')
_RESULT_KEYS = ('Task', 'Dataset', 'Metrics', 'Config', 'Notes')
#: Keys a published result may carry on top of :data:`_RESULT_KEYS`.
_PUBLISHED_RESULT_KEYS = ('Source', )
#: The Weights of a model without a pre-training config: a random backbone, or a checkpoint released elsewhere.
RANDOM_WEIGHTS, RELEASED_WEIGHTS = 'random', 'released'
#: The composite taps of a ViT's linear protocols (``mmssl.models.backbones.vit``: ``cls_last{n}[_mean]``), which a
#: published result of a table with a column per tap may name beside the reference (ResNet) taps.
_VIT_TAP = re.compile(r'cls_last[1-9][0-9]*(_mean)?')
_COLLECTION_KEYS = ('Name', 'Metadata', 'Paper', 'README')


@dataclass
class Metafile:
    """One loaded metafile (``published`` is the optional published.yml beside it)."""
    path: str
    collections: List[dict]
    models: List[dict]
    published: Dict[str, List[dict]] = field(default_factory=dict)
    published_source: Optional[str] = None


def _check_config(path, root: str, where: str, allow_none: bool) -> None:
    if path is None:
        if not allow_none:
            fail(where, 'Config is required')
        return
    if not isinstance(path, str):
        fail(where, f'Config must be a path relative to the repository, got {path!r}')
    if osp.isabs(path) or not osp.isfile(osp.join(root, path)):
        fail(where, f'Config {path} does not exist (paths are relative to the repository root)')


def _allowed_metric(table, name: str) -> bool:
    """Whether a result of ``table`` may carry metric ``name``: one of its reference metrics, or a ViT composite
    tap in a table with a column per tap."""
    return name in table.result_metrics or bool(table.tap_metrics and _VIT_TAP.fullmatch(name))


def _check_notes(result: dict, here: str) -> None:
    notes = result.get('Notes')
    if notes is None:
        return
    if not isinstance(notes, dict) or not notes:
        fail(here, f'Notes must be a non-empty mapping of metric name to text, got {notes!r}')
    for name, note in notes.items():
        if name not in result['Metrics']:
            fail(here, f'Notes name {name!r}, which is not one of its Metrics {list(result["Metrics"])}')
        if not isinstance(note, str) or not note.strip():
            fail(here, f'the note of {name!r} must be text, got {note!r}')


def _check_results(results, root: str, where: str, require_config: bool, extra_keys: Sequence[str] = ()) -> List[dict]:
    if results is None:
        return []
    if not isinstance(results, list):
        fail(where, f'Results must be a list or null, got {type(results).__name__}')
    seen = set()
    for index, result in enumerate(results):
        here = f'{where}: Results[{index}]'
        if not isinstance(result, dict):
            fail(here, 'a result must be a mapping with Task, Dataset, Metrics, Config')
        unknown = sorted(set(result) - set(_RESULT_KEYS) - set(extra_keys))
        if unknown:
            fail(here, f'unknown keys {unknown}; a result has {list(_RESULT_KEYS) + list(extra_keys)}')
        for key in extra_keys:
            if key in result and not isinstance(result[key], str):
                fail(here, f'{key} must be text, got {result[key]!r}')
        for key in ('Task', 'Dataset', 'Metrics'):
            if key not in result:
                fail(here, f'missing {key}')
        table = table_for(result['Task'], result['Dataset'], here)
        _check_config(result.get('Config'), root, here, allow_none=not require_config)
        metrics = result['Metrics']
        if not isinstance(metrics, dict) or not metrics:
            fail(here, 'Metrics must be a non-empty mapping of metric name to number')
        for name, value in metrics.items():
            if not _allowed_metric(table, name):
                vit = ' or a ViT tap cls_last<n>[_mean]' if table.tap_metrics else ''
                fail(here, f'unknown metric {name!r} for {table.task} / {result["Dataset"]}; '
                     f'expected one of {list(table.result_metrics)}{vit}')
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                fail(here, f'metric {name!r} must be a number, got {value!r}')
        _check_notes(result, here)
        identity = (result['Task'], result['Dataset'], result.get('Config'))
        if identity in seen:
            fail(here, f'a second result for {identity}; merge their metrics into one entry')
        seen.add(identity)
    return results


def _load_yaml(path: str) -> dict:
    try:
        with open(path, encoding='utf-8') as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise ModelZooError(f'{path}: file not found') from None
    except yaml.YAMLError as error:
        raise ModelZooError(f'{path}: not valid YAML: {error}') from None
    if not isinstance(data, dict):
        fail(path, f'expected a mapping at the top level, got {type(data).__name__}')
    return data


def _check_weights(model: dict, here: str) -> None:
    """A model without a pre-training config is a random backbone or a released checkpoint with its source."""
    if model['Config'] is not None:
        return
    weights = model.get('Weights')
    if weights not in (RANDOM_WEIGHTS, RELEASED_WEIGHTS):
        fail(here, f'a model without a pre-training Config must say Weights: {RANDOM_WEIGHTS} (a randomly '
             f'initialised backbone) or Weights: {RELEASED_WEIGHTS} (a checkpoint released elsewhere), got {weights!r}')
    code = model.get('Code')
    if weights == RELEASED_WEIGHTS and not (isinstance(code, str) and code.startswith('https://')):
        fail(here, 'a released checkpoint needs Code: the https URL (at a commit) of the README that publishes it, '
             f'got {code!r}')


def is_released(model: dict) -> bool:
    """Whether ``model`` is a checkpoint released elsewhere (no mmssl pre-training config)."""
    return model['Config'] is None and model.get('Weights') == RELEASED_WEIGHTS


def load_metafile(path: str, root: str) -> Metafile:
    """Load and validate one metafile (and the ``published.yml`` beside it, if any)."""
    rel = osp.relpath(path, root)
    data = _load_yaml(path)
    unknown = sorted(set(data) - {'Collections', 'Models'})
    if unknown:
        fail(rel, f'unknown top-level keys {unknown}; a metafile has Collections and Models')
    collections, models = data.get('Collections'), data.get('Models')
    if not isinstance(collections, list) or not collections:
        fail(rel, 'Collections must be a non-empty list')
    if not isinstance(models, list) or not models:
        fail(rel, 'Models must be a non-empty list')
    names = set()
    for index, collection in enumerate(collections):
        here = f'{rel}: Collections[{index}]'
        if not isinstance(collection, dict) or not isinstance(collection.get('Name'), str):
            fail(here, 'a collection needs a Name')
        unknown = sorted(set(collection) - set(_COLLECTION_KEYS))
        if unknown:
            fail(here, f'unknown keys {unknown}; a collection has {list(_COLLECTION_KEYS)}')
        readme = collection.get('README')
        if readme is None or not osp.isfile(osp.join(root, readme)):
            fail(here, f'README {readme} does not exist (paths are relative to the repository root)')
        names.add(collection['Name'])
    seen = set()
    for index, model in enumerate(models):
        if not isinstance(model, dict) or not isinstance(model.get('Name'), str):
            fail(f'{rel}: Models[{index}]', 'a model needs a Name')
        here = f'{rel}: Models[{index}] ({model["Name"]})'
        unknown = sorted(set(model) - set(_MODEL_KEYS))
        if unknown:
            fail(here, f'unknown keys {unknown}; a model has {list(_MODEL_KEYS)}')
        if model['Name'] in seen:
            fail(here, 'duplicate model name')
        seen.add(model['Name'])
        if model.get('In Collection') not in names:
            fail(here, f'In Collection {model.get("In Collection")!r} is not one of this file\'s collections '
                 f'{sorted(names)}')
        if 'Config' not in model:
            fail(here, 'missing Config (the pre-training config; null for a randomly initialised backbone)')
        _check_config(model['Config'], root, here, allow_none=True)
        _check_weights(model, here)
        model['Results'] = _check_results(model.get('Results'), root, here, require_config=True)
    metafile = Metafile(rel, collections, models)
    published_path = osp.join(osp.dirname(path), PUBLISHED_FILE)
    if osp.exists(published_path):
        _load_published(metafile, published_path, root)
    return metafile


def _load_published(metafile: Metafile, path: str, root: str) -> None:
    rel = osp.relpath(path, root)
    data = _load_yaml(path)
    unknown = sorted(set(data) - {'Source', 'Models'})
    if unknown:
        fail(rel, f'unknown top-level keys {unknown}; published.yml has Source and Models')
    if not isinstance(data.get('Source'), str):
        fail(rel, 'Source (where the numbers were published) is required')
    if not isinstance(data.get('Models'), list):
        fail(rel, 'Models must be a list')
    ours = {model['Name'] for model in metafile.models}
    for index, model in enumerate(data['Models']):
        if not isinstance(model, dict) or model.get('Name') not in ours:
            fail(f'{rel}: Models[{index}]', f'Name {model.get("Name") if isinstance(model, dict) else model!r} '
                 f'is not a model of {metafile.path}')
        unknown = sorted(set(model) - {'Name', 'Results'})
        if unknown:
            fail(f'{rel}: Models[{index}] ({model["Name"]})', f'unknown keys {unknown}')
        metafile.published[model['Name']] = _check_results(
            model.get('Results'), root, f'{rel}: Models[{index}] ({model["Name"]})', require_config=False,
            extra_keys=_PUBLISHED_RESULT_KEYS)
    metafile.published_source = data['Source']


def load_model_index(root: str) -> List[Metafile]:
    """All metafiles imported by ``root/model-index.yml``, validated; model names are unique across them."""
    index_path = osp.join(root, MODEL_INDEX)
    data = _load_yaml(index_path)
    imports = data.get('Import')
    if not isinstance(imports, list) or not imports:
        fail(MODEL_INDEX, 'Import must be a non-empty list of metafile paths')
    metafiles, owner = [], {}
    for path in imports:
        metafile = load_metafile(osp.join(root, path), root)
        for model in metafile.models:
            if model['Name'] in owner:
                fail(metafile.path, f'model {model["Name"]} is also defined in {owner[model["Name"]]}')
            owner[model['Name']] = metafile.path
        metafiles.append(metafile)
    _check_with_modelindex(root, owner)
    return metafiles


def _check_with_modelindex(root: str, owner: Dict[str, str]) -> None:
    """Read the index with the ``modelindex`` library too: the files must parse as the model-index format and give
    the same models. Its README check is not used: OpenMMLab metafiles name READMEs relative to the repository
    root, while ``modelindex`` resolves them from the metafile's folder."""
    import modelindex
    try:
        index = modelindex.load(osp.join(root, MODEL_INDEX))
    except Exception as error:  # modelindex raises ValueError / KeyError / yaml errors for malformed files
        fail(MODEL_INDEX, f'not a valid model index for the modelindex library: {error}')
    names = sorted(model.name for model in index.models)
    if names != sorted(owner):
        fail(MODEL_INDEX, f'the modelindex library reads the models {names}, mmssl reads {sorted(owner)}')


def canonical_results(results: List[dict], with_config: bool = True) -> List[dict]:
    """Results in table order, keys and metrics in fixed order."""
    out = []
    for result in sorted(results, key=result_sort_key):
        table = table_for(result['Task'], result['Dataset'])
        entry = dict(Task=result['Task'], Dataset=result['Dataset'], Metrics=ordered_metrics(table, result['Metrics']))
        if with_config or result.get('Config') is not None:
            entry['Config'] = result.get('Config')
        notes = result.get('Notes') or {}
        if notes:
            entry['Notes'] = {name: notes[name] for name in entry['Metrics'] if name in notes}
        out.append(entry)
    return out


def _ordered(mapping: dict, keys: Sequence[str]) -> dict:
    return {key: mapping[key] for key in keys if key in mapping}


def dump_metafile(metafile: Metafile) -> str:
    """The metafile as canonical YAML text: fixed key order, results in table order."""
    collections = [_ordered(collection, _COLLECTION_KEYS) for collection in metafile.collections]
    models = []
    for model in metafile.models:
        entry = _ordered(model, _MODEL_KEYS[:-1])
        entry['Results'] = canonical_results(model['Results']) or None
        models.append(entry)
    body = yaml.safe_dump(dict(Collections=collections, Models=models), sort_keys=False, allow_unicode=True,
                          width=1000, default_flow_style=False)
    return METAFILE_HEADER + body


def find_model(metafiles: List[Metafile], name: str) -> Tuple[Metafile, dict]:
    """The metafile defining model ``name`` and the model; a clear error listing the known models."""
    for metafile in metafiles:
        for model in metafile.models:
            if model['Name'] == name:
                return metafile, model
    known = sorted(model['Name'] for metafile in metafiles for model in metafile.models)
    raise ModelZooError(f'{MODEL_INDEX}: unknown model {name!r}; known models: {known}')
