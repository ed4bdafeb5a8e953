"""Gather result records into a comparison: rows are models, columns are (benchmark, metric), cells are runs.

A model is its pre-training config and checkpoint file name (the runs of several pre-training seeds write
checkpoints of one name and differ in sha256); a record of a random backbone (no checkpoint) belongs to the
random-init row. Records come from result files (``result_<benchmark>.json``), a suite's ``records.json`` or a
folder holding either.

A column's protocol is what its records store about how the number was made: the benchmark config, the data set,
the ``--cfg-options`` it ran with (``extra.cfg_options``) and the selection rule (``extra.selection``; ``fixed``
when the record states none). Records of one benchmark with different protocols never share a column.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from mmssl.utils.checkpoint import read_checkpoint

from ..records import read_result
from ..suite import RECORDS_FILE, read_suite_records

#: The row of the records of a randomly initialised backbone.
RANDOM_INIT_ROW = 'random-init'


#: The key under which :func:`pairing_seeds` puts the seed of the network itself (pre-training or random draw).
MODEL_SEED = 'model'


@dataclass
class Run:
    """One record of one model on one benchmark: where it came from, what it measured, and the seeds that pair it
    with a run of another model (:func:`pairing_seeds`)."""
    source: str
    record: dict
    pairing: Dict[str, object] = field(default_factory=dict)

    @property
    def seed(self) -> str:
        """The pairing seeds as text (``model=1, seed=0``)."""
        return ', '.join(f'{key}={value}' for key, value in sorted(self.pairing.items())) or 'none recorded'


def checkpoint_seed(checkpoint: Optional[dict]) -> Optional[int]:
    """The training seed an mmengine checkpoint stores (``meta.seed``), read weights-only, when the recorded file
    still exists with the recorded sha256; ``None`` otherwise (another file now, moved, or not mmengine's)."""
    if not checkpoint or not osp.isfile(checkpoint.get('path') or ''):
        return None
    try:
        read = read_checkpoint(checkpoint['path'])
    except (OSError, ValueError, RuntimeError):
        return None
    meta = read.content.get('meta') if isinstance(read.content, dict) else None
    if read.sha256 != checkpoint.get('sha256') or not isinstance(meta, dict):
        return None
    seed = meta.get('seed')
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def pairing_seeds(record: dict, model_seed: Optional[int] = None) -> Dict[str, object]:
    """The seeds by which a run pairs with a run of another model: the record's ``seeds`` with the network's own
    seed under :data:`MODEL_SEED`: ``seeds.random_init`` of a random backbone, ``seeds.pretrain`` of a pre-trained
    one, else ``model_seed`` (the checkpoint's training seed, :func:`checkpoint_seed`). A pre-training and the
    random network drawn from its seed thus pair; the benchmark's own seeds (``seed``, ``heldout``, ...) must agree
    as well."""
    seeds = dict(record.get('seeds') or {})
    drawn, pretrain = seeds.pop('random_init', None), seeds.pop('pretrain', None)
    own = drawn if not record.get('checkpoint') else pretrain if pretrain is not None else model_seed
    if own is not None:
        seeds[MODEL_SEED] = own
    return seeds


def selection_rule(record: dict) -> str:
    """How the record's number was selected: ``extra.selection.rule`` (``heldout``, ``val``, ...; ``, refit``
    added when it refit on all training rows) or ``extra.selection`` given as text, ``fixed`` when it states
    none (the config fixes every setting)."""
    selection = (record.get('extra') or {}).get('selection')
    if isinstance(selection, dict) and selection.get('rule') is not None:
        return str(selection['rule']) + (', refit' if selection.get('refit') else '')
    return str(selection) if isinstance(selection, str) else 'fixed'


def cfg_options(record: dict) -> dict:
    """The ``--cfg-options`` a record's run applied to its benchmark config (``extra.cfg_options``)."""
    return dict((record.get('extra') or {}).get('cfg_options') or {})


@dataclass
class Column:
    """A benchmark's metric, with the protocol every record of it shares."""
    benchmark: str
    metric: str
    benchmark_config: Optional[str]
    dataset: Optional[str]
    cfg_options: dict = field(default_factory=dict)
    selection: str = 'fixed'

    @property
    def name(self) -> str:
        """``benchmark/metric``."""
        return f'{self.benchmark}/{self.metric}'


@dataclass
class Table:
    """Rows (model name -> benchmark -> runs) and columns of a comparison."""
    rows: Dict[str, Dict[str, List[Run]]] = field(default_factory=dict)
    columns: List[Column] = field(default_factory=list)

    def runs(self, row: str, benchmark: str) -> List[Run]:
        """The runs of ``row`` on ``benchmark`` (empty when it has none)."""
        return self.rows.get(row, {}).get(benchmark, [])


def row_name(record: dict) -> str:
    """The model of a record: ``<pre-training config stem> @ <checkpoint file>``, or the random-init row."""
    checkpoint = record.get('checkpoint')
    if not checkpoint:
        return RANDOM_INIT_ROW
    config = record.get('pretrain_config')
    stem = osp.splitext(osp.basename(config))[0] if config else 'unknown config'
    return f'{stem} @ {osp.basename(checkpoint["path"])}'


def _suite_records(path: str) -> List[dict]:
    stored = read_suite_records(osp.dirname(path))
    return [record for row in stored['rows'].values() for group in row.values() for record in group]


def _folder_files(folder: str) -> List[str]:
    """A suite's ``records.json`` stands for the result files below it (it holds their records)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        if RECORDS_FILE in files:
            found.append(osp.join(root, RECORDS_FILE))
            dirs[:] = []
            continue
        found += [osp.join(root, name) for name in sorted(files)
                  if name.startswith('result_') and name.endswith('.json')]
    return found


def load_runs(paths: Sequence[str]) -> List[Run]:
    """Every record in ``paths`` (result files, suites' ``records.json`` or folders holding them), with its
    pairing seeds (a checkpoint's training seed read once per file).

    Raises ``FileNotFoundError`` for a missing path and ``ValueError`` naming a file that is not a record or a
    folder that holds none.
    """
    found = []
    for path in paths:
        if not osp.exists(path):
            raise FileNotFoundError(f'{path}: no such result record or folder')
        files = _folder_files(path) if osp.isdir(path) else [path]
        if not files:
            raise ValueError(f'{path}: holds no result record (result_*.json) or suite records ({RECORDS_FILE})')
        for file in files:
            records = _suite_records(file) if osp.basename(file) == RECORDS_FILE else [read_result(file)]
            found += [(file, record) for record in records]
    training_seeds: Dict[tuple, Optional[int]] = {}
    runs = []
    for source, record in found:
        checkpoint = record.get('checkpoint') or {}
        key = (checkpoint.get('path'), checkpoint.get('sha256'))
        if checkpoint and 'pretrain' not in (record.get('seeds') or {}) and key not in training_seeds:
            training_seeds[key] = checkpoint_seed(checkpoint)
        runs.append(Run(source, record, pairing_seeds(record, training_seeds.get(key))))
    return runs


def protocol_of(record: dict) -> Tuple:
    """The protocol fields a record stores: benchmark config, data set, ``--cfg-options`` (as sorted JSON) and
    selection rule."""
    return (record.get('benchmark_config'), record.get('dataset'), json.dumps(cfg_options(record), sort_keys=True),
            selection_rule(record))


def _check_protocol(benchmark: str, runs: List[Run]) -> Tuple:
    """The protocol (:func:`protocol_of`) all runs of a benchmark share; ``ValueError`` naming the files if not."""
    protocols: Dict[Tuple, List[str]] = {}
    for run in runs:
        protocols.setdefault(protocol_of(run.record), []).append(run.source)
    if len(protocols) > 1:
        listed = '; '.join(f'benchmark config {cfg!r}, dataset {data!r}, cfg_options {options}, selection '
                           f'{rule!r}: {sorted(set(files))}' for (cfg, data, options, rule), files in protocols.items())
        raise ValueError(f'records of {benchmark!r} follow different protocols and cannot share a column '
                         f'({listed}); compare records of one benchmark config, data set, --cfg-options and '
                         'selection rule')
    return next(iter(protocols))


def _check_metrics(benchmark: str, rows: Dict[str, List[Run]]) -> List[str]:
    """The metrics every run of a benchmark reports; ``ValueError`` naming the rows and metrics otherwise."""
    # one entry per run: the runs of a suite's records.json share its file name
    reported = [(row, run.source, set(run.record['metrics'])) for row, runs in rows.items() for run in runs]
    common = set.intersection(*(names for _, _, names in reported))
    odd = {(row, source): sorted(names - common) for row, source, names in reported if names != common}
    if odd:
        listed = '; '.join(f'row {row!r} ({source}) also reports {extra}' for (row, source), extra in odd.items())
        raise ValueError(f'runs of {benchmark!r} report different metrics, which would mix in one table: {listed}; '
                         f'every run compared reports {sorted(common)}')
    return sorted(common)


def build_table(runs: Sequence[Run]) -> Table:
    """Group runs into rows and columns, checking one protocol and one metric set per benchmark."""
    table = Table()
    by_benchmark: Dict[str, Dict[str, List[Run]]] = {}
    for run in runs:
        row = row_name(run.record)
        table.rows.setdefault(row, {}).setdefault(run.record['benchmark'], []).append(run)
        by_benchmark.setdefault(run.record['benchmark'], {}).setdefault(row, []).append(run)
    for benchmark in sorted(by_benchmark):
        rows = by_benchmark[benchmark]
        config, dataset, options, rule = _check_protocol(benchmark, [run for group in rows.values() for run in group])
        for metric in _check_metrics(benchmark, rows):
            table.columns.append(Column(benchmark, metric, config, dataset, json.loads(options), rule))
    return table
