"""Publishing a benchmark result record into the model zoo: merged into one model's Results in its metafile.

A number that a selection run chose (a linear grid's lr / weight decay, the probe's C: the record's
``extra['selected_lr']``, ``selected_wd``, ``selected_C``) keeps the chosen point as the result's ``Notes`` for its
metric (``lr 0.1``, ``C 0.0316``), marked ``†`` where the record's selection rule is ``val`` (chosen on the split the
number is reported on); the tables show the note beside the number.
"""
import os.path as osp
from typing import Optional

from mmssl.benchmarks.records import read_result
from mmssl.benchmarks.tables import ModelZooError, record_to_result, repo_relative
from mmssl.benchmarks.tables.layout import fail

from .metafile import RANDOM_WEIGHTS, dump_metafile, find_model, is_released, load_model_index


def _check_evaluated_model(record: dict, model: dict, root: str, where: str) -> None:
    """Refuse a record that does not evaluate ``model``: a checkpoint for a pre-trained model (of the same
    pre-training config, when the record names one), none for a randomly initialised backbone, a checkpoint and
    no mmssl pre-training config for a released one."""
    random_init = model['Config'] is None and model.get('Weights') == RANDOM_WEIGHTS
    if random_init and record['checkpoint'] is not None:
        fail(where, 'the record evaluates a checkpoint but the model is a randomly initialised backbone')
    if is_released(model):
        if record['checkpoint'] is None:
            fail(where, 'the record evaluates a random backbone but the model is a released checkpoint')
        if record.get('pretrain_config') is not None:
            fail(where, f'the record\'s checkpoint comes from {record["pretrain_config"]}, the model is a released '
                 'checkpoint')
    if model['Config'] is not None:
        if record['checkpoint'] is None:
            fail(where, f'the record evaluates a random backbone but the model is pre-trained with {model["Config"]}')
        if record.get('pretrain_config') is not None:
            pretrain_config = repo_relative(record['pretrain_config'], root)
            if pretrain_config != model['Config']:
                fail(where, f'the record\'s checkpoint comes from {pretrain_config}, the model from {model["Config"]}')


def add_result(root: str, record_path: str, model_name: str, dataset: Optional[str] = None) -> str:
    """Merge a result record into model ``model_name``'s Results and rewrite its metafile canonically.

    The record's metrics replace same-named metrics of the result with the same Task, Dataset and benchmark
    Config (other metrics of that result are kept), and so do their notes (the chosen grid point; a metric
    measured again without one loses its old note); a new (Task, Dataset, Config) becomes a new result. The
    record must evaluate the model it is added to: a checkpoint for a pre-trained model (and, if the record
    names its pre-training config, the model's Config), no checkpoint for a ``Weights: random`` model.

    Returns:
        str: the rewritten metafile (relative to ``root``).
    """
    try:
        record = read_result(record_path)
    except (OSError, ValueError) as error:
        raise ModelZooError(f'{record_path}: {error}') from None
    metafiles = load_model_index(root)
    metafile, model = find_model(metafiles, model_name)
    _check_evaluated_model(record, model, root, f'{record_path} -> {model_name}')
    result = record_to_result(record, root, dataset, where=record_path, notes=True)
    for existing in model['Results']:
        if (existing['Task'], existing['Dataset'], existing.get('Config')) == \
                (result['Task'], result['Dataset'], result['Config']):
            existing['Metrics'] = {**existing['Metrics'], **result['Metrics']}
            kept = {name: note for name, note in (existing.get('Notes') or {}).items() if name not in result['Metrics']}
            existing.pop('Notes', None)
            if kept or result.get('Notes'):
                existing['Notes'] = {**kept, **(result.get('Notes') or {})}
            break
    else:
        model['Results'].append(result)
    text = dump_metafile(metafile)
    with open(osp.join(root, metafile.path), 'w', encoding='utf-8') as f:
        f.write(text)
    return metafile.path
