"""The linear benchmark's grid point chosen per tap on held-out training images, the fixed point beside it, refit,
selection on val as a marked option, and bad input refused before any work."""
import json
import os
import os.path as osp

import pytest
import torch
import yaml
from mmengine.config import Config

import mmssl.benchmarks.linear as linear
from mmssl.benchmarks import cli
from mmssl.benchmarks.linear import LinearEval
from mmssl.benchmarks.linear_grid import add_lr_grid_param_groups, apply_grid_options, check_grid
from mmssl.benchmarks.linear_report import linear_table_notes, run_selection
from mmssl.benchmarks.linear_selection import HELDOUT_FILE, select_point, selection_settings
from mmssl.benchmarks.records import read_result
from mmssl.benchmarks.suite import load_suite
from mmssl.engine.train import train as runner_train
from mmssl.utils import BackboneWeights, read_checkpoint, register_all_modules
from mmssl.utils.errors import InputError

GRID_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead-grid-heldout_1xb64-steplr-4e_fmnist-demo.py'
PLAIN_DEMO = 'configs/benchmarks/classification/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
TAPS = ('feature1', 'feature2', 'feature3', 'feature4', 'feature5')
HEADS = {'': 1, '@lrx0.1': 0.1, '@lrx10': 10}


def demo_config(repo_root, data, tmp_path, config=GRID_DEMO) -> Config:
    register_all_modules()
    cfg = Config.fromfile(str(repo_root / config))
    for split in ('train', 'val'):
        loader = cfg[f'{split}_dataloader']
        loader.update(num_workers=0, persistent_workers=False)
        loader.dataset.data_root = data['data_root']
    cfg.work_dir = str(tmp_path / 'work')
    return cfg


class FakeTraining:
    """Stands in for the Runner: returns the given validation metrics and writes the given held-out ones where the
    held-out hook would; records every config it was asked to train."""

    def __init__(self, val, heldout, refit_val=None):
        self.val, self.heldout, self.refit_val, self.configs = val, heldout, refit_val, []

    def __call__(self, cfg, weights):
        self.configs.append(cfg)
        hooks = [hook for hook in cfg.get('custom_hooks') or [] if hook['type'] == 'HeldoutEvalHook']
        if hooks:
            os.makedirs(cfg.work_dir, exist_ok=True)
            with open(hooks[0]['out_file'], 'w') as f:
                json.dump(self.heldout, f)
        val = self.val if len(self.configs) == 1 else self.refit_val
        return dict(val, time=1.0), None


def metrics_of(prefix, values):
    """``{prefix/<tap><head>/top1: value}``: ``values`` maps (tap, head suffix) to top-1; top-5 is 100."""
    out = {}
    for (tap, head), value in values.items():
        out[f'{prefix}/{tap}{head}/top1'] = value
        out[f'{prefix}/{tap}{head}/top5'] = 100.0
    return out


# Held-out prefers 0.1x on every tap, val prefers 10x: the chosen head must be the held-out's.
VAL = {(tap, head): {'': 50.0, '@lrx0.1': 40.0, '@lrx10': 90.0}[head] for tap in TAPS for head in HEADS}
HELDOUT = {(tap, head): {'': 60.0, '@lrx0.1': 70.0, '@lrx10': 30.0}[head] for tap in TAPS for head in HEADS}
HELDOUT[('feature1', '')] = HELDOUT[('feature1', '@lrx0.1')] = HELDOUT[('feature1', '@lrx10')] = 20.0  # a tie


def run(cfg, settings, training):
    points = check_grid(cfg)
    add_lr_grid_param_groups(cfg)
    return run_selection(cfg, BackboneWeights.random(0), settings, points, training)


def test_each_tap_gets_the_point_with_the_best_heldout_accuracy_reported_on_val(repo_root, fmnist_three, tmp_path):
    cfg = demo_config(repo_root, fmnist_three, tmp_path)
    training = FakeTraining(metrics_of('accuracy', VAL), metrics_of('heldout', HELDOUT))
    metrics, extra, _ = run(cfg, selection_settings(cfg, heldout_size=10), training)
    trained = training.configs[0]
    # The grid trained on the fit rows; the held-out rows were evaluated with the validation pipeline.
    assert trained.train_dataloader.dataset.type == 'HeldoutSubset' and trained.train_dataloader.dataset.part == 'fit'
    hook = trained.custom_hooks[-1]
    assert hook.dataloader.dataset.part == 'heldout' and hook.evaluator.prefix == 'heldout'
    assert hook.dataloader.dataset.dataset.pipeline == cfg.val_dataloader.dataset.pipeline
    assert metrics['accuracy/feature5/top1'] == 40.0 and metrics['accuracy/feature5@fixed/top1'] == 50.0
    assert extra['selected_lr']['feature5'] == 0.001 and extra['selected_head']['feature5'] == 'feature5@lrx0.1'
    # A tie on held-out goes to the smaller lr, whatever val says.
    assert extra['selected_lr']['feature1'] == 0.001 and metrics['accuracy/feature1/top1'] == 40.0
    assert set(extra['grid']) == set(TAPS) and len(extra['grid']['feature5']) == 3
    point = extra['grid']['feature5'][2]
    assert point == dict(lr=0.1, wd=1e-4, lr_mult=10, wd_mult=1, head='feature5@lrx10',
                         heldout=dict(top1=30.0, top5=100.0), val=dict(top1=90.0, top5=100.0))
    assert extra['selection'] == dict(rule='heldout', metric='top1', refit=False,
                                      heldout=dict(size=10, seed=0, fit_rows=20, rows=10))
    assert extra['fixed']['trained_on'].startswith('the fit rows')
    assert osp.isfile(extra['grid_plot']) and osp.isfile(osp.join(cfg.work_dir, HELDOUT_FILE))
    assert not any('@lrx' in name for name in metrics)  # the other points are in the record's grid only


def test_refit_trains_the_chosen_points_on_all_of_train_and_reports_those(repo_root, fmnist_three, tmp_path):
    cfg = demo_config(repo_root, fmnist_three, tmp_path)
    refit_val = {(tap, head): value for (tap, head), value in VAL.items() if head in ('', '@lrx0.1')}
    refit_val[('feature5', '@lrx0.1')] = 77.0
    training = FakeTraining(metrics_of('accuracy', VAL), metrics_of('heldout', HELDOUT),
                            metrics_of('accuracy', refit_val))
    metrics, extra, _ = run(cfg, selection_settings(cfg, heldout_size=10, refit=True), training)
    refit = training.configs[1]
    assert refit.model.head.lr_grid == [0.1, 1] and refit.train_dataloader.dataset.type == 'ImageList'
    assert refit.work_dir == osp.join(cfg.work_dir, 'refit') and not refit.get('custom_hooks')
    assert metrics['accuracy/feature5/top1'] == 77.0 and metrics['accuracy/feature5@fixed/top1'] == 50.0
    assert extra['selection']['refit'] and extra['fixed']['trained_on'] == 'all of train'


def test_selection_on_val_is_explicit_recorded_and_marked(repo_root, fmnist_three, tmp_path):
    cfg = demo_config(repo_root, fmnist_three, tmp_path)
    training = FakeTraining(metrics_of('accuracy', VAL), None)
    metrics, extra, _ = run(cfg, selection_settings(cfg, selection='val'), training)
    assert training.configs[0].train_dataloader.dataset.type == 'ImageList'  # no split: all of train
    assert metrics['accuracy/feature5/top1'] == 90.0 and extra['selected_lr']['feature5'] == 0.1
    assert extra['selection']['rule'] == 'val' and extra['selection']['heldout'] is None
    assert linear_table_notes(dict(extra=extra), LinearEval.table_metrics)['feature5'] == 'lr 0.1†'


def test_select_point_ties_go_to_the_smaller_lr_then_weight_decay():
    points = [dict(lr_mult=mult, wd_mult=wd, heldout=dict(top1=top1), val=dict(top1=100 - top1))
              for mult, wd, top1 in ((10, 1, 80.0), (1, 10, 80.0), (1, 1, 80.0), (0.1, 1, 70.0))]
    assert (select_point(points, 'heldout')['lr_mult'], select_point(points, 'heldout')['wd_mult']) == (1, 1)
    assert select_point(points, 'val')['lr_mult'] == 0.1


def test_grid_and_selection_options_from_the_command_line_and_a_suite_entry(repo_root, tmp_path):
    args = cli.build_parser(LinearEval()).parse_args([GRID_DEMO, 'none', '--lr-grid', '0.1', '1', '10', '--wd-grid',
                                                      '1', '10', '--selection', 'val', '--heldout-size', '0.2',
                                                      '--heldout-seed', '3', '--refit'])
    assert (args.lr_grid, args.wd_grid, args.selection, args.heldout_size, args.heldout_seed, args.refit) == (
        [0.1, 1, 10], [1, 10], 'val', 0.2, 3, True)
    assert cli.build_parser(LinearEval()).parse_args([GRID_DEMO, 'none', '--heldout-size', '100']).heldout_size == 100
    cfg = apply_grid_options(Config.fromfile(str(repo_root / PLAIN_DEMO)), [0.1, 1.0, 10], [1.0, 10])
    assert (cfg.model.head.lr_grid, cfg.model.head.wd_grid) == ([0.1, 1, 10], [1, 10])
    suite = tmp_path / 'suite.yml'
    suite.write_text(yaml.safe_dump(dict(linear=dict(config=PLAIN_DEMO, args=['--lr-grid', '0.1', '1', '10',
                                                                              '--selection', 'heldout', '--refit']))))
    entry = load_suite(str(suite), root=str(repo_root))['linear']
    assert entry.args == ['--lr-grid', '0.1', '1', '10', '--selection', 'heldout', '--refit']
    suite.write_text(yaml.safe_dump(dict(linear=dict(config=PLAIN_DEMO, args=['--lr-grids', '1']))))
    with pytest.raises(ValueError, match='not options of the linear benchmark'):
        load_suite(str(suite), root=str(repo_root))


@pytest.mark.parametrize('options, cfg_options, expected', [
    (dict(lr_grid=[0, 1]), {}, r'lr_grid must hold positive learning-rate multipliers.*not positive: \[0\]'),
    (dict(lr_grid=[0.1, 10]), {}, r'lr_grid must contain 1'),
    (dict(wd_grid=[1, 10]), {'optim_wrapper.optimizer.weight_decay': 0}, r'wd_grid \[1, 10\] multiplies weight_decay'),
    (dict(lr_grid=[1, 10]), {'optim_wrapper.optimizer.lr': -0.1}, r'optimizer.lr is -0.1; .* positive lr'),
    (dict(heldout_size=30), {}, r'heldout.size=30 asks for 30 held-out rows.*at most 29'),
    (dict(heldout_size=5), {}, r'heldout.size=5 gives 5 held-out rows, fewer than the 10 classes'),
    (dict(heldout_size=1.5), {}, r'a count .* or a fraction .* got 1.5'),
    (dict(selection='test'), {}, None),
    ({}, {'linear_selection.refit': 'yes'}, r'linear_selection.refit must be True or False'),
    ({}, {'linear_selection.heldout.seed': 0.5}, r'heldout.seed must be an integer, got 0.5'),
    ({}, {'linear_selection.rule': 'val'}, r"unknown keys \['rule'\]"),
])
def test_bad_input_is_refused_before_any_training(repo_root, fmnist_three, tmp_path, monkeypatch, options,
                                                  cfg_options, expected):
    monkeypatch.setattr(linear, 'train', lambda cfg: pytest.fail('training started'))
    cfg = demo_config(repo_root, fmnist_three, tmp_path)
    for key, value in cfg_options.items():
        cfg.merge_from_dict({key: value})
    if expected is None:
        with pytest.raises(SystemExit):  # argparse refuses a choice outside heldout / val
            cli.build_parser(LinearEval()).parse_args([GRID_DEMO, 'none', '--selection', options['selection']])
        with pytest.raises(InputError, match=r"selection must be one of \('heldout', 'val'\), got 'test'"):
            LinearEval().run(cfg, BackboneWeights.random(0), str(tmp_path / 'work'), **options)
        return
    with pytest.raises(InputError, match=expected) as error:
        LinearEval().run(cfg, BackboneWeights.random(0), str(tmp_path / 'work'), **options)
    assert GRID_DEMO in str(error.value)  # the message names the config


def test_a_small_split_and_a_single_head_config_are_refused(repo_root, fmnist_tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(linear, 'train', lambda cfg: pytest.fail('training started'))
    cfg = demo_config(repo_root, fmnist_tiny, tmp_path)  # one training image per class: none can be held out
    with pytest.raises(InputError, match=r'heldout.size=0.5 gives 5 held-out rows, fewer than the 10 classes'):
        LinearEval().run(cfg, BackboneWeights.random(0), str(tmp_path / 'work'), heldout_size=0.5)
    cfg = demo_config(repo_root, fmnist_tiny, tmp_path, PLAIN_DEMO)  # no grid: a single head, no selection asked
    cfg.model.head.type = 'LinearClsHead'
    with pytest.raises(InputError, match='needs a multi-head config'):
        LinearEval().run(cfg, BackboneWeights.random(0), str(tmp_path / 'work'), selection='heldout')


@pytest.mark.slow  # one tiny epoch of the demo grid with held-out selection and refit, through the benchmark CLI
def test_the_demo_grid_chooses_on_heldout_and_refits_end_to_end(repo_root, fmnist_three, tmp_path, monkeypatch):
    monkeypatch.chdir(repo_root)
    overrides = {f'{split}_dataloader.{key}': value for split in ('train', 'val')
                 for key, value in dict(num_workers=0, persistent_workers=False).items()}
    overrides.update({f'{split}_dataloader.dataset.data_root': fmnist_three['data_root']
                      for split in ('train', 'val')})
    overrides.update({'train_dataloader.batch_size': 10, 'train_cfg.max_epochs': 1})
    work = tmp_path / 'work'
    cli.main('linear', [GRID_DEMO, 'none', '--work-dir', str(work), '--heldout-size', '10', '--refit',
                        '--cfg-options', *[f'{key}={value}' for key, value in overrides.items()]])
    record = read_result(LinearEval.record_path(str(work)))
    extra = record['extra']
    assert extra['selection']['refit'] and extra['selection']['heldout']['rows'] == 10
    for tap in TAPS:
        chosen = extra['selected_head'][tap]
        assert record['metrics'][f'accuracy/{tap}/top1'] == extra['refit']['val'][tap]['top1']
        assert f'accuracy/{tap}@fixed/top1' in record['metrics']
        assert all(point['heldout'] and point['val'] for point in extra['grid'][tap])
        assert chosen in [point['head'] for point in extra['grid'][tap]]
    assert (work / 'probe_grid.png').is_file() and (work / 'refit' / HELDOUT_FILE).exists() is False
    assert record['seeds']['heldout'] == 0


@pytest.mark.slow  # two tiny runs of the demo recipe (20 fit rows, two iterations each)
def test_the_fixed_head_of_a_heldout_grid_run_ends_as_a_plain_run_on_the_fit_rows(repo_root, fmnist_three, tmp_path):
    """The whole held-out path (fit subset, grid groups, held-out evaluation, recorded metrics) leaves the config's own
    head exactly where the plain recipe trained on the same fit rows ends: weights, BN statistics and val accuracy."""
    settings = dict(size=10, seed=0)
    grid = demo_config(repo_root, fmnist_three, tmp_path / 'grid')
    grid.linear_selection = dict(heldout=settings, selection='heldout', refit=False)
    plain = demo_config(repo_root, fmnist_three, tmp_path / 'plain', config=PLAIN_DEMO)
    # The plain demo's jointly trained avgpool head draws its construction-time init from the global stream before
    # the taps' heads are initialised; the grid demo has none, so the plain run leaves it out to start alike.
    plain.model.head.with_avgpool_head = False
    plain.train_dataloader.dataset = dict(type='HeldoutSubset', dataset=plain.train_dataloader.dataset.to_dict(),
                                          part='fit', **settings)
    for cfg in (grid, plain):
        cfg.train_dataloader.batch_size = 10
        cfg.train_cfg.update(max_epochs=1, val_interval=1)
    metrics = LinearEval().run(grid, BackboneWeights.random(), grid.work_dir)
    linear.set_backbone_checkpoint(plain, None)
    plain_metrics = runner_train(plain)
    for tap in TAPS:
        assert metrics[f'accuracy/{tap}@fixed/top1'] == pytest.approx(plain_metrics[f'accuracy/{tap}/top1'])
    # The runs' own checkpoints (optimizer and message-hub state beside the weights), written by this test.
    states = [read_checkpoint(osp.join(cfg.work_dir, 'epoch_1.pth')).content['state_dict']
              for cfg in (grid, plain)]
    keys = [key for key in states[1] if key.startswith('head.heads.')]
    assert keys and all(key in states[0] for key in keys)
    for key in keys:
        torch.testing.assert_close(states[0][key], states[1][key], rtol=0, atol=1e-6, msg=key)
