"""Run a suite of benchmarks on one pre-trained checkpoint and gather their result records into tables.

Each benchmark runs its own command-line tool in a child process (as a user would, and so that mmdet / mmseg
default scopes and runner state never leak between benchmarks); distributed where ``gpus > 1``. A suite file
(YAML, e.g. ``configs/benchmarks/suites/resnet50_in1k.yml``) names the config of every benchmark. Every tool
resumes its own work, so a suite that was interrupted is simply started again.
"""
import os
import os.path as osp
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import yaml
from mmengine.logging import MMLogger

from . import model_zoo
from .results import read_result

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CLASSIFICATION = osp.join('tools', 'benchmarks', 'classification')


@dataclass(frozen=True)
class Benchmark:
    """How one benchmark of a suite runs.

    Attributes:
        tool: the tool script, relative to the repository.
        records: result records the tool writes, relative to the benchmark's work dir.
        args: fixed extra arguments of the tool.
        accepts_random: whether ``none`` (a randomly initialised backbone) can be evaluated.
    """
    tool: str
    records: Sequence[str]
    args: Sequence[str] = ()
    accepts_random: bool = True


BENCHMARKS: Dict[str, Benchmark] = {
    'svm': Benchmark(osp.join(CLASSIFICATION, 'svm_voc07', 'svm_benchmark.py'), ('svm/result_svm_voc07.json', ),
                     ('--no-lowshot', )),
    'lowshot': Benchmark(osp.join(CLASSIFICATION, 'svm_voc07', 'svm_benchmark.py'),
                         ('lowshot/result_lowshot_svm_voc07.json', ), ('--no-svm', )),
    'linear': Benchmark(osp.join(CLASSIFICATION, 'linear_eval.py'), ('result_linear_eval.json', )),
    'knn': Benchmark(osp.join(CLASSIFICATION, 'knn.py'), ('result_knn.json', )),
    'det': Benchmark(osp.join('tools', 'benchmarks', 'mmdetection', 'train.py'), ('result_detection.json', ),
                     accepts_random=False),
    'seg': Benchmark(osp.join('tools', 'benchmarks', 'mmsegmentation', 'train.py'), ('result_segmentation.json', ),
                     accepts_random=False),
}
# The SVM and low-shot benchmarks share the extracted features (one folder, extracted once).
WORK_SUBDIR = {'svm': 'svm_voc07', 'lowshot': 'svm_voc07'}


@dataclass
class SuiteEntry:
    """A benchmark's config in a suite, with optional ``cfg_options`` and extra tool ``args``."""
    config: str
    cfg_options: Dict[str, object] = field(default_factory=dict)
    args: List[str] = field(default_factory=list)


def load_suite(path: str, overrides: Optional[Dict[str, str]] = None) -> Dict[str, SuiteEntry]:
    """Read a suite file; ``overrides`` (benchmark -> config) replace its configs.

    Raises ``ValueError`` naming the file and key for an unknown benchmark, a malformed entry or a config file
    that does not exist.
    """
    with open(path) as f:
        raw = yaml.safe_load(f) or {}
    if not isinstance(raw, dict):
        raise ValueError(f'{path}: a suite maps benchmark names to configs, got {type(raw).__name__}')
    suite = {}
    for name, entry in {**raw, **(overrides or {})}.items():
        where = f'{path}: {name}' if name in raw and name not in (overrides or {}) else f'--config {name}'
        if name not in BENCHMARKS:
            raise ValueError(f'{where}: unknown benchmark, expected one of {sorted(BENCHMARKS)}')
        if isinstance(entry, str):
            entry = dict(config=entry)
        if not isinstance(entry, dict) or set(entry) - {'config', 'cfg_options', 'args'} or 'config' not in entry:
            raise ValueError(f'{where}: expected a config path or a mapping with config / cfg_options / args')
        suite[name] = SuiteEntry(entry['config'], dict(entry.get('cfg_options') or {}), list(entry.get('args') or []))
        if not osp.isfile(osp.join(REPO, suite[name].config)):
            raise ValueError(f'{where}: config {suite[name].config} does not exist')
    return suite


def benchmark_command(name: str, entry: SuiteEntry, checkpoint: str, work_dir: str,
                      pretrain_config: Optional[str], gpus: int = 1, python: str = sys.executable) -> List[str]:
    """The command line that runs benchmark ``name`` on ``checkpoint`` (``'none'``: random backbone)."""
    benchmark = BENCHMARKS[name]
    script = osp.join(REPO, benchmark.tool)
    launch = [python, script]
    distributed = []
    if gpus > 1:
        launch = [python, '-m', 'torch.distributed.run', f'--nproc_per_node={gpus}',
                  f'--master_port={os.environ.get("PORT", "29500")}', script]
        distributed = ['--launcher', 'pytorch']
    command = launch + [entry.config, checkpoint, '--work-dir', work_dir, *benchmark.args, *entry.args]
    if pretrain_config:
        command += ['--pretrain-config', pretrain_config]
    return command + _cfg_option_args(entry) + (distributed if name not in ('svm', 'lowshot') else [])


def _cfg_option_args(entry: SuiteEntry) -> List[str]:
    return ['--cfg-options', *(f'{k}={v}' for k, v in entry.cfg_options.items())] if entry.cfg_options else []


def run_suite(checkpoint: str,
              benchmarks: Sequence[str],
              suite: Dict[str, SuiteEntry],
              work_dir: str,
              pretrain_config: Optional[str] = None,
              gpus: int = 1,
              python: str = sys.executable) -> Dict[str, List[dict]]:
    """Run ``benchmarks`` on ``checkpoint`` and return their result records (benchmark -> records).

    Raises before running anything when a benchmark is not in the suite or cannot take a random backbone.
    A failing tool raises ``RuntimeError`` with its command; finished benchmarks keep their records.
    """
    missing = [name for name in benchmarks if name not in suite]
    if missing:
        raise ValueError(f'benchmarks {missing} have no config in the suite (give --config NAME=PATH)')
    if checkpoint == 'none':
        refused = [name for name in benchmarks if not BENCHMARKS[name].accepts_random]
        if refused:
            raise ValueError(f'benchmarks {refused} need a pre-trained checkpoint, not "none"')
    elif not osp.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
    logger = MMLogger.get_current_instance()
    if gpus > 1 and {'svm', 'lowshot'} & set(benchmarks):
        _extract_distributed(checkpoint, suite['svm' if 'svm' in benchmarks else 'lowshot'], work_dir,
                             pretrain_config, gpus, python)
    records = {}
    for name in benchmarks:
        bench_dir = osp.join(work_dir, WORK_SUBDIR.get(name, name))
        command = benchmark_command(name, suite[name], checkpoint, bench_dir, pretrain_config, gpus, python)
        logger.info(f'benchmark {name}: {" ".join(command)}')
        result = subprocess.run(command, cwd=REPO)
        if result.returncode != 0:
            raise RuntimeError(f'benchmark {name} failed (exit code {result.returncode}): {" ".join(command)}')
        records[name] = [read_result(osp.join(bench_dir, path)) for path in BENCHMARKS[name].records]
    return records


def _extract_distributed(checkpoint, entry, work_dir, pretrain_config, gpus, python) -> None:
    """SVM features extracted by ``gpus`` processes into the folder that svm_benchmark.py then reuses."""
    out = osp.join(work_dir, WORK_SUBDIR['svm'], 'features')
    if osp.isfile(osp.join(out, 'meta.json')):
        return
    command = [python, '-m', 'torch.distributed.run', f'--nproc_per_node={gpus}',
               osp.join(REPO, CLASSIFICATION, 'svm_voc07', 'extract.py'), entry.config, checkpoint, '--out', out,
               '--launcher', 'pytorch']
    if pretrain_config:
        command += ['--pretrain-config', pretrain_config]
    if subprocess.run(command + _cfg_option_args(entry), cwd=REPO).returncode != 0:
        raise RuntimeError(f'distributed feature extraction failed: {" ".join(command)}')


def suite_tables(rows: Dict[str, Dict[str, List[dict]]], pretrain_config: Optional[str]) -> str:
    """Model-zoo tables (markdown) of the records of one or more runs: row name -> benchmark -> records.

    A run whose records evaluate no checkpoint is shown as a randomly initialised backbone.
    """
    models = []
    for name, records in rows.items():
        flat = [record for group in records.values() for record in group]
        random_init = all(record['checkpoint'] is None for record in flat)
        results = [model_zoo.record_to_result(record, REPO, where=f'{name}: {record["benchmark"]}')
                   for record in flat]
        models.append({'Name': name, 'In Collection': 'run', 'Config': None if random_init else pretrain_config,
                       'Metadata': {}, 'Results': results})
    metafile = model_zoo.Metafile('run', [{'Name': 'run', 'Metadata': {}, 'README': 'README.md'}], models)
    return '\n'.join(model_zoo.render_tables([metafile], '.', REPO)).strip() + '\n'


def plot_linear(records: Dict[str, List[dict]], path: str) -> Optional[str]:
    """PNG of linear top-1 per layer (feature1-5, avgpool), one line per run; ``None`` without linear results.

    Args:
        records: row name -> the run's linear-evaluation records.
        path: output PNG.
    """
    import matplotlib
    matplotlib.use('Agg')  # files only: no display on servers
    import matplotlib.pyplot as plt

    heads = list(model_zoo.LAYERS) + ['avgpool']
    fig, ax = plt.subplots(figsize=(6, 4))
    plotted = False
    for name, group in records.items():
        for record in group:
            values = [record['metrics'].get(f'accuracy/{head}/top1') for head in heads]
            if any(v is None for v in values):
                continue
            ax.plot(heads, values, marker='o', label=name)
            plotted = True
    if not plotted:
        plt.close(fig)
        return None
    ax.set_ylabel('top-1 (%)')
    ax.set_title('Linear evaluation per layer')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
