"""Publishing a benchmark result record into the model zoo: merged into one model's Results in its metafile."""
import os.path as osp
from typing import Optional

from mmssl.benchmarks.records import read_result
from mmssl.benchmarks.tables import ModelZooError, record_to_result, repo_relative
from mmssl.benchmarks.tables.layout import fail

from .metafile import dump_metafile, find_model, load_model_index


def _check_evaluated_model(record: dict, model: dict, root: str, where: str) -> None:
    """Refuse a record that does not evaluate ``model``: a checkpoint for a pre-trained model (of the same
    pre-training config, when the record names one), none for a randomly initialised backbone."""
    if model['Config'] is None and record['checkpoint'] is not None:
        fail(where, 'the record evaluates a checkpoint but the model is a randomly initialised backbone')
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
    Config (other metrics of that result are kept); a new (Task, Dataset, Config) becomes a new result. The
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
    result = record_to_result(record, root, dataset, where=record_path)
    for existing in model['Results']:
        if (existing['Task'], existing['Dataset'], existing.get('Config')) == \
                (result['Task'], result['Dataset'], result['Config']):
            existing['Metrics'] = {**existing['Metrics'], **result['Metrics']}
            break
    else:
        model['Results'].append(result)
    text = dump_metafile(metafile)
    with open(osp.join(root, metafile.path), 'w', encoding='utf-8') as f:
        f.write(text)
    return metafile.path
