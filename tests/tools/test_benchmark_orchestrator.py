"""tools/benchmarks/run_suite.py: a suite of benchmarks on one checkpoint, with the random-init row, into tables."""
import json
import os.path as osp
from pathlib import Path

import pytest
import torch
import yaml
from builders import REPO_ROOT as REPO
from builders.fashion_mnist import FASHION_MNIST_DIR, make_fashion_mnist

from mmssl.benchmarks import suite as benchmark_suite
from mmssl.benchmarks.base import default_work_dir
from mmssl.benchmarks.tables import record_to_result
from mmssl.models import ResNet

DEMO_SUITE = REPO / 'configs' / 'benchmarks' / 'suites' / 'resnet18_fmnist-demo.yml'
RELLOC_DEMO = 'configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py'
FMNIST_KNN = 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'
MHEAD_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'


def test_shipped_suites_name_existing_configs_of_known_benchmarks():
    for suite in (REPO / 'configs' / 'benchmarks' / 'suites').glob('*.yml'):
        entries = benchmark_suite.load_suite(str(suite))
        # load_suite refuses unknown benchmarks and missing configs; every suite has the SVM, kNN and a trained
        # classifier (the multi-head linear evaluation or the cached probe).
        assert {'svm', 'knn'} <= set(entries) and {'linear', 'probe'} & set(entries), suite


def test_bad_suites_and_requests_are_refused_before_running(tmp_path):
    suite = tmp_path / 'suite.yml'
    suite.write_text('svn: configs/benchmarks/classification/voc07/resnet50_svm_voc07.py\n')
    with pytest.raises(ValueError, match=r"suite.yml: svn: unknown benchmark, expected one of \['det', 'knn'"):
        benchmark_suite.load_suite(str(suite))
    suite.write_text('knn: configs/nope.py\n')
    with pytest.raises(ValueError, match='knn: config configs/nope.py does not exist'):
        benchmark_suite.load_suite(str(suite))
    entries = benchmark_suite.load_suite(str(DEMO_SUITE))
    with pytest.raises(ValueError, match=r"benchmarks \['det'\] have no config in the suite"):
        benchmark_suite.run_suite(None, ['knn', 'det'], entries, str(tmp_path))
    with pytest.raises(ValueError, match=r"benchmarks \['det'\] need a pre-trained checkpoint"):
        benchmark_suite.run_suite(None, ['det'], benchmark_suite.load_suite(
            str(REPO / 'configs' / 'benchmarks' / 'suites' / 'resnet50_in1k.yml')), str(tmp_path))


def test_distributed_commands_use_torchrun_and_the_pytorch_launcher():
    entry = benchmark_suite.SuiteEntry('c.py', {'a.b': 1}, ['--x'])
    command = benchmark_suite.benchmark_command('linear', entry, 'ckpt.pth', 'w', 'p.py', gpus=4, python='py')
    assert command[:4] == ['py', '-m', 'torch.distributed.run', '--nproc_per_node=4']
    assert command[-2:] == ['--launcher', 'pytorch'] and '--cfg-options' in command and 'a.b=1' in command
    assert '--pretrain-config' in command and '--x' in command
    # The package's own entry point runs every benchmark; no tools/ script is named.
    assert command[5:9] == ['-m', 'mmssl.benchmarks', 'linear', 'c.py'] and not any('tools/' in c for c in command)
    single = benchmark_suite.benchmark_command('svm', entry, None, 'w', None, python='py')
    assert single[:6] == ['py', '-m', 'mmssl.benchmarks', 'svm', 'c.py', 'none']
    assert '--launcher' not in single and '--random-init-seed' not in single


def test_a_random_backbone_of_another_seed_is_passed_on_and_has_its_own_work_dir():
    entry = benchmark_suite.SuiteEntry('c.py')
    command = benchmark_suite.benchmark_command('svm', entry, None, 'w', None, python='py', random_init_seed=2)
    assert command[command.index('--random-init-seed') + 1] == '2'
    # The seed is a random backbone's only: a checkpoint's command does not carry it.
    assert '--random-init-seed' not in benchmark_suite.benchmark_command('svm', entry, 'c.pth', 'w', None,
                                                                         random_init_seed=2)
    assert default_work_dir('svm', 'c/svm.py', None, random_init_seed=2).endswith('random-init-seed2')


def write_demo_suite(tmp_path) -> Path:
    """The demo suite on tiny Fashion-MNIST data (11 costs, k = 1 and 2, one epoch), as a suite file. Its linear
    entry is the demo's plain multi-head recipe: the suite's lr grid with held-out selection trains twice (grid,
    then refit), end to end in tests/benchmarks/test_linear_selection.py."""
    data = make_fashion_mnist(str(tmp_path / 'data'), per_class=16, idx_dir=FASHION_MNIST_DIR)
    voc, root = data['voc07']['data_root'], data['data_root']
    suite = {name: entry for name, entry in yaml.safe_load(DEMO_SUITE.read_text()).items()}
    loaders = {'num_workers': 0, 'persistent_workers': False}
    suite['svm'] = dict(config=suite['svm'], args=['--costs', 'voc07_11'], cfg_options={
        'trainval_dataloader.dataset.data_root': voc, 'test_dataloader.dataset.data_root': voc,
        'trainval_dataloader.num_workers': 0, 'test_dataloader.num_workers': 0})
    suite['lowshot'] = dict(suite['svm'], args=['--costs', 'voc07_11', '--shots', '1', '2'])
    suite['linear'] = dict(config=str(REPO / MHEAD_DEMO), cfg_options={
        'train_dataloader.dataset.data_root': root, 'val_dataloader.dataset.data_root': root,
        'train_cfg.max_epochs': 1,
        **{f'{split}_dataloader.{k}': v for split in ('train', 'val') for k, v in loaders.items()}})
    (tmp_path / 'suite.yml').write_text(yaml.safe_dump({k: suite[k] for k in ('svm', 'lowshot', 'linear')}))
    return tmp_path / 'suite.yml'


def save_random_resnet18(path, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    backbone = ResNet(depth=18)
    backbone.init_weights()
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in backbone.state_dict().items()}}, path)
    return path


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(FASHION_MNIST_DIR), reason='Debian package dataset-fashion-mnist is not installed')
def test_suite_with_baseline_prints_both_rows(tmp_path, capsys, run_tool):
    write_demo_suite(tmp_path)
    save_random_resnet18(tmp_path / 'p.pth')

    run_tool('benchmarks/run_suite.py', RELLOC_DEMO, tmp_path / 'p.pth', '--benchmarks', 'svm', 'lowshot', 'linear',
             '--baseline', '--suite', tmp_path / 'suite.yml', '--work-dir', tmp_path / 'work')
    out = capsys.readouterr().out
    tables = (tmp_path / 'work' / 'model_zoo.md').read_text()
    assert tables in out
    for title in ('linear SVM', 'low-shot SVM', 'multi-head linear evaluation'):
        section = tables[tables.index(title):]
        rows = [line for line in section.split('\n\n')[1].splitlines() if line.startswith('| ')][1:]
        assert any('relative-loc_resnet18' in row for row in rows), title
        assert any('random init (no pre-training)' in row for row in rows), title
    assert 'No results yet' not in tables  # a run shows the tables it filled, no empty ones
    assert (tmp_path / 'work' / 'linear_per_layer.png').is_file()
    assert (tmp_path / 'work' / 'svm_voc07' / 'lowshot' / 'lowshot.png').is_file()
    assert (tmp_path / 'work' / 'random_init' / 'svm_voc07' / 'svm' / 'result_svm_voc07.json').is_file()


def test_the_avgpool_column_comes_from_the_separate_protocol():
    """mmselfsup 0.x: the multi-head evaluation has five heads (MultiClsHead with_last_layer_unpool=False) and the
    AvgPool number is its own run (resnet50_linear-8xb32-steplr-100e_in1k.py: lr 30, wd 0, steps 60/80)."""
    from mmengine.config import Config

    suite = benchmark_suite.load_suite(str(REPO / 'configs' / 'benchmarks' / 'suites' / 'resnet50_in1k.yml'))
    multi_head = Config.fromfile(suite['linear'].config)
    assert multi_head.model.head.with_avgpool_head is False
    avgpool = Config.fromfile(suite['linear_avgpool'].config)
    optimizer = avgpool.optim_wrapper.optimizer
    assert (optimizer.lr, optimizer.weight_decay, avgpool.train_cfg.max_epochs) == (30, 0, 100)
    assert avgpool.param_scheduler[0].milestones == [60, 80]
    record = dict(format='mmssl.result.v1', benchmark='linear_eval', benchmark_config=suite['linear_avgpool'].config,
                  metrics={'accuracy/top1': 40.0}, checkpoint=None, date='x', versions={})
    assert record_to_result(record, str(REPO))['Metrics'] == {'avgpool': 40.0}
    joint = dict(record, benchmark_config=suite['linear'].config, metrics={'accuracy/avgpool/top1': 45.0})
    assert record_to_result(joint, str(REPO))['Metrics'] == {'avgpool_joint': 45.0}


@pytest.mark.slow
@pytest.mark.skipif(not osp.isdir(FASHION_MNIST_DIR), reason='Debian package dataset-fashion-mnist is not installed')
def test_runs_of_several_seeds_give_mean_and_std_rows(tmp_path, capsys, run_tool):
    suite = write_demo_suite(tmp_path)
    checkpoints = [save_random_resnet18(tmp_path / f'seed{seed}.pth', seed) for seed in (1, 2)]
    run_tool('benchmarks/run_suite.py', RELLOC_DEMO, *checkpoints, '--benchmarks', 'svm', '--baseline',
             '--baseline-seeds', '0', '3', '--suite', suite, '--work-dir', tmp_path / 'work')
    rows = json.loads((tmp_path / 'work' / 'records.json').read_text())['rows']
    pretrained = rows['relative-loc_resnet18_1xb32-300it_fmnist-demo (2 runs)']['svm']
    baseline = rows['random init, seeds 0, 3']['svm']
    assert [r['checkpoint']['path'] for r in pretrained] == [str(c) for c in checkpoints]
    assert [r['seeds']['random_init'] for r in baseline] == [0, 3]
    # Two seeds are two networks: their numbers differ, and the cell is their mean ± sample std.
    first, second = (r['metrics']['feature5'] for r in baseline)
    assert first != second
    cell = f'{(first + second) / 2:.2f} ± {abs(first - second) / 2 ** 0.5:.2f}'
    tables = (tmp_path / 'work' / 'model_zoo.md').read_text()
    row = next(line for line in tables.splitlines() if line.startswith('| random init, seeds 0, 3 (no pre-training)'))
    assert row.split(' | ')[-2] == cell
    assert tables in capsys.readouterr().out


def test_every_path_is_made_absolute_before_anything_runs(tmp_path, monkeypatch, run_tool, repo_root):
    from builders.checkpoints import save_resnet_checkpoint
    caller, suites = tmp_path / 'caller', tmp_path / 'suites'
    (caller / 'cfg').mkdir(parents=True)
    suites.mkdir()
    save_resnet_checkpoint(caller / 'p.pth', depth=18)
    (caller / 'cfg' / 'pre.py').write_text((repo_root / RELLOC_DEMO).read_text())
    (caller / 'cfg' / 'linear.py').write_text('')
    (suites / 'my_knn.py').write_text('')
    svm = 'configs/benchmarks/classification/voc07/resnet50_svm_voc07.py'
    (suites / 'suite.yml').write_text(f'svm: {svm}\nknn: my_knn.py\nlinear: {svm}\n')
    started = {}

    def capture(checkpoint, benchmarks, suite, work_dir, pretrain_config, *args, **kwargs):
        started.update(checkpoint=checkpoint, suite=suite, work_dir=work_dir, pretrain_config=pretrain_config)
        raise KeyboardInterrupt  # stop here: the arguments are what this test checks

    monkeypatch.setattr(benchmark_suite, 'run_suite', capture)
    monkeypatch.chdir(caller)
    with pytest.raises(KeyboardInterrupt):
        run_tool('benchmarks/run_suite.py', 'cfg/pre.py', 'p.pth', '--benchmarks', 'svm', 'knn', 'linear', '--suite',
                 '../suites/suite.yml', '--work-dir', 'out', '--config', 'linear=cfg/linear.py')
    assert started['checkpoint'] == str(caller / 'p.pth') and started['work_dir'] == str(caller / 'out')
    assert started['pretrain_config'] == str(caller / 'cfg' / 'pre.py')
    assert started['suite']['svm'].config == str(repo_root / svm)  # the repository's configs/...
    assert started['suite']['knn'].config == str(suites / 'my_knn.py')  # next to the suite file
    assert started['suite']['linear'].config == str(caller / 'cfg' / 'linear.py')  # --config: from the caller

    with pytest.raises(KeyboardInterrupt):  # the default suite, found from any directory
        run_tool('benchmarks/run_suite.py', 'cfg/pre.py', 'p.pth', '--benchmarks', 'knn')
    assert started['suite']['knn'].config == str(repo_root / 'configs/benchmarks/classification/knn/'
                                                 'resnet50_knn_in1k.py')

    # Configs outside the repository run (their tables link them by path), but not into the metafiles: refused
    # before any run.
    started.clear()
    with pytest.raises(ValueError, match=f'config {caller}/cfg/pre.py is outside the repository'):
        run_tool('benchmarks/run_suite.py', 'cfg/pre.py', 'p.pth', '--benchmarks', 'knn', '--model', 'mine')
    assert not started

    (suites / 'suite.yml').write_text('knn: nowhere.py\n')
    with pytest.raises(ValueError, match=f'suite.yml: knn: config nowhere.py does not exist \\(looked in {suites} '
                       f'and {repo_root}\\)'):
        run_tool('benchmarks/run_suite.py', 'cfg/pre.py', 'p.pth', '--benchmarks', 'knn', '--suite',
                 '../suites/suite.yml')


RECORDING_PLUGIN = '''"""Records the options its run() got; scores a checkpoint by its hash (no data)."""
from mmssl.benchmarks.base import Benchmark
from mmssl.registry import BENCHMARKS


@BENCHMARKS.register_module()
class RecordingBenchmark(Benchmark):
    name = 'recording'
    record_name = 'recording'
    title = 'Recording benchmark'
    task = 'Recording'
    columns = (('Score', 'score'), )

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument('--recompute', action='store_true')

    def run(self, cfg, weights, work_dir, recompute=False, **options):
        metrics = {'score': int(weights.sha256[:4], 16) / 655.35}
        # The tables link configs of the repository only: the record names the one the test config points at.
        self.write_record(work_dir, metrics, cfg, weights, None, pretrain_config=options.get('pretrain_config'),
                          benchmark_config=cfg.shown_config, extra=dict(options=dict(options, recompute=recompute)))
        return metrics
'''


@pytest.fixture
def recording_suite(tmp_path, monkeypatch):
    """A suite of the ``recording`` plugin benchmark, registered here and in the suite's benchmark processes."""
    import os
    import sys

    from mmssl.registry import BENCHMARKS
    plugin = tmp_path / 'plugin'
    plugin.mkdir()
    (plugin / 'recording_benchmark.py').write_text(RECORDING_PLUGIN)
    (plugin / 'recording.py').write_text("custom_imports = dict(imports=['recording_benchmark'], "
                                         "allow_failed_imports=False)\ndataset_name = 'Tiny'\n"
                                         f"shown_config = '{REPO / FMNIST_KNN}'\n")
    (plugin / 'suite.yml').write_text('recording: recording.py\n')
    monkeypatch.syspath_prepend(str(plugin))
    import recording_benchmark  # noqa: F401  (registered before the suite's command line names it)
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join(filter(None, [str(plugin), os.environ.get('PYTHONPATH')])))
    yield plugin / 'suite.yml'
    BENCHMARKS.module_dict.pop('RecordingBenchmark', None)
    sys.modules.pop('recording_benchmark', None)


def test_a_later_suite_into_the_same_work_dir_adds_its_rows_and_recompute_reaches_the_benchmark(
        tmp_path, recording_suite, run_tool, capsys):
    from builders.checkpoints import save_resnet_checkpoint
    for name in ('p1', 'p2'):
        save_resnet_checkpoint(tmp_path / f'{name}.pth', depth=18)
    work = tmp_path / 'work'
    common = ['--benchmarks', 'recording', '--suite', recording_suite, '--work-dir', work]
    run_tool('benchmarks/run_suite.py', RELLOC_DEMO, tmp_path / 'p1.pth', *common)
    run_tool('benchmarks/run_suite.py', RELLOC_DEMO, tmp_path / 'p2.pth', *common, '--recompute')

    rows = json.loads((work / 'records.json').read_text())['rows']
    records = [record for row in rows.values() for record in row['recording']]
    assert [Path(r['checkpoint']['path']).name for r in records] == ['p1.pth', 'p2.pth']
    # --recompute reached the second suite's benchmark as run(recompute=True), not the first's.
    assert [r['extra']['options']['recompute'] for r in records] == [False, True]
    # The first checkpoint keeps the work dir's folders; the second runs in a folder of its own.
    assert records[0]['extra']['work_dir'] == str(work / 'recording')
    tag = f'p2-{records[1]["checkpoint"]["sha256"][:8]}'
    assert records[1]['extra']['work_dir'] == str(work / tag / 'recording')
    tables = (work / 'model_zoo.md').read_text()
    row = 'relative-loc_resnet18_1xb32-300it_fmnist-demo'
    for name, record in ((row, records[0]), (f'{row} [{tag}]', records[1])):
        assert f'| [{name}](' in tables and f'{record["metrics"]["score"]:.2f}' in tables, name
    assert set(rows) == {row, f'{row} [{tag}]'}


def test_a_suite_into_a_locked_work_dir_is_refused_naming_the_holder(tmp_path, run_tool):
    from builders.checkpoints import save_resnet_checkpoint
    from builders.runs import hold_work_dir_lock
    save_resnet_checkpoint(tmp_path / 'p.pth', depth=18)
    work = tmp_path / 'work'
    with hold_work_dir_lock(work) as holder:
        with pytest.raises(RuntimeError, match=rf'work dir {work} is in use by another run: pid {holder.pid} '
                           r'\(.*HOLDER-MARK\)'):
            run_tool('benchmarks/run_suite.py', RELLOC_DEMO, tmp_path / 'p.pth', '--benchmarks', 'knn',
                     '--work-dir', work)
        assert sorted(path.name for path in work.iterdir()) == ['.lock']  # no records, no tables


def record_of(model: str, benchmark='svm_voc07', config='svm.py', score=1.0) -> dict:
    """A suite record of checkpoint ``model`` (``seed<N>``: the random backbone of seed N)."""
    random = model.startswith('seed')
    return dict(benchmark=benchmark, benchmark_config=config, metrics={'score': score},
                checkpoint=None if random else dict(path=f'{model}.pth', sha256=model * 8),
                seeds=dict(random_init=int(model[4:])) if random else {})


def test_merged_records_replace_only_the_record_of_the_same_benchmark_model_and_config():
    stored = {'a': {'svm': [record_of('aa'), record_of('aa', config='other.py')],
                    'knn': [record_of('aa', 'knn', 'knn.py')]},
              'random init': {'svm': [record_of('seed0')]}}
    new = {'a': {'svm': [record_of('aa', score=2.0)]}, 'random init': {'svm': [record_of('seed1')]}}
    merged = benchmark_suite.merge_rows(stored, new)
    scores = [(r['benchmark_config'], r['metrics']['score']) for r in merged['a']['svm']]
    assert scores == [('other.py', 1.0), ('svm.py', 2.0)]
    assert merged['a']['knn'] == stored['a']['knn']
    assert [r['seeds']['random_init'] for r in merged['random init']['svm']] == [0, 1]
    # A record moved to another row leaves no empty row behind.
    assert benchmark_suite.merge_rows({'old': {'svm': [record_of('aa')]}}, {'new': {'svm': [record_of('aa')]}}) \
        == {'new': {'svm': [record_of('aa')]}}


def test_records_of_a_work_dir_that_are_not_a_suites_are_refused_naming_the_file(tmp_path):
    assert benchmark_suite.read_suite_records(str(tmp_path)) == dict(rows={}, pretrain_configs={})
    (tmp_path / 'records.json').write_text('{"rows": {"a": {"svm": [{"metrics": {}}]}}}')
    with pytest.raises(ValueError, match=f'{tmp_path / "records.json"} is not the records of a suite run'):
        benchmark_suite.read_suite_records(str(tmp_path))


@pytest.mark.slow
def test_a_suite_refuses_features_of_another_data_set_then_recomputes_them(tmp_path, run_tool, repo_root):
    from builders.reuse_inputs import CLASSES, FMNIST_SVM, voc_tree

    checkpoint = save_random_resnet18(tmp_path / 'pretrain.pth', seed=1)
    work, suite_file = tmp_path / 'work', tmp_path / 'suite.yml'

    def write_suite(test_root):
        cfg_options = {'trainval_dataloader.dataset.data_root': first_root, 'trainval_dataloader.num_workers': 0,
                       'test_dataloader.dataset.data_root': test_root, 'test_dataloader.num_workers': 0,
                       'trainval_dataloader.dataset.metainfo.classes': CLASSES,
                       'test_dataloader.dataset.metainfo.classes': CLASSES}
        entry = dict(config=str(repo_root / FMNIST_SVM), args=['--costs', '0.1,1', '--layers', 'feature5'],
                     cfg_options=cfg_options)
        suite_file.write_text(yaml.safe_dump(dict(svm=entry)))

    def suite(*extra, expect_ok=True):
        return run_tool('benchmarks/run_suite.py', RELLOC_DEMO, checkpoint, '--benchmarks', 'svm', '--suite',
                        suite_file, '--work-dir', work, *extra, process=True, expect_ok=expect_ok)

    first_root, other_root = voc_tree(tmp_path / 'voc', seed=0), voc_tree(tmp_path / 'other', seed=1)
    write_suite(first_root)
    suite()
    write_suite(other_root)  # the same checkpoint and work dir, the test split from another tree
    refused = suite(expect_ok=False)
    assert refused.returncode != 0
    assert (f"config test_dataloader.dataset.data_root: '{first_root}' when extracted, '{other_root}' now"
            in refused.stdout + refused.stderr)
    suite('--recompute')
    recomputed = json.loads((work / 'records.json').read_text())['rows']
    run_tool('benchmarks/run_suite.py', RELLOC_DEMO, checkpoint, '--benchmarks', 'svm', '--suite', suite_file,
             '--work-dir', tmp_path / 'clean', process=True)
    clean = json.loads((tmp_path / 'clean' / 'records.json').read_text())['rows']
    (row, ), (clean_row, ) = recomputed.values(), clean.values()
    assert len(row['svm']) == 1  # the recomputed record replaced the first one
    assert row['svm'][0]['metrics'] == clean_row['svm'][0]['metrics']
    assert row['svm'][0]['extra']['cfg_options']['test_dataloader.dataset.data_root'] == other_root
