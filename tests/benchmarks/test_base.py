"""What every benchmark declares, the shared work-dir scheme and the one command line."""
import hashlib

import pytest
import torch

from mmssl.benchmarks import cli
from mmssl.benchmarks.base import benchmark_names, default_work_dir, get_benchmark
from mmssl.benchmarks.records import record_names
from mmssl.registry import BENCHMARKS


def test_every_benchmark_declares_itself_once():
    assert benchmark_names() == ['det', 'knn', 'linear', 'linear_avgpool', 'lowshot', 'lowshot_places205', 'probe',
                                 'seg', 'semi_sup', 'svm', 'svm_coco2014']
    for name in benchmark_names():
        benchmark = get_benchmark(name)
        assert benchmark.name == name and benchmark.title and benchmark.task and benchmark.columns
        assert benchmark.record_file() == f'result_{benchmark.record_name}.json'
    assert record_names() == {cls.record_name: cls.title for cls in BENCHMARKS.module_dict.values()}
    with pytest.raises(KeyError, match=r"unknown benchmark 'svn', expected one of \['det'"):
        get_benchmark('svn')


def test_every_option_of_a_benchmark_is_on_its_command_line():
    parser = cli.build_parser(get_benchmark('lowshot'))
    options = {option for action in parser._actions for option in action.option_strings}
    assert {'--work-dir', '--cfg-options', '--pretrain-config', '--launcher', '--samples', '--legacy-cost-selection',
            '--num-samples', '--shots', '--solver', '--costs', '--device'} <= options


def test_the_places205_lowshot_options_are_on_its_command_line():
    parser = cli.build_parser(get_benchmark('lowshot_places205'))
    options = {option for action in parser._actions for option in action.option_strings}
    assert {'--samples', '--legacy-cost-selection', '--shots', '--num-samples', '--seed', '--device', '--max-memory',
            '--costs', '--layers', '--solver'} <= options
    # FAIR's cost list unless the command line or the config says otherwise.
    assert parser.parse_args(['c.py', 'none']).costs is None


def test_default_work_dirs_carry_the_checkpoint_content_hash(tmp_path):
    first, second = tmp_path / 'a' / 'iter_300.pth', tmp_path / 'b' / 'iter_300.pth'
    for path, value in ((first, 0.0), (second, 1.0)):
        path.parent.mkdir()
        torch.save({'state_dict': {'w': torch.full((2, ), value)}}, path)
    dirs = [default_work_dir('svm', 'configs/x/resnet50_svm_voc07.py', str(path)) for path in (first, second)]
    assert dirs[0] != dirs[1]
    assert dirs[0] == f'work_dirs/benchmarks/svm/resnet50_svm_voc07/iter_300-' \
                      f'{hashlib.sha256(first.read_bytes()).hexdigest()[:8]}'
    assert default_work_dir('knn', 'c/knn.py', None) == 'work_dirs/benchmarks/knn/knn/random-init-seed0'


def test_random_backbones_are_refused_where_they_mean_nothing(tmp_path):
    with pytest.raises(SystemExit, match='the det benchmark needs a pre-trained checkpoint, not "none"'):
        cli.main('det', ['configs/benchmarks/mmdetection/coco/mask-rcnn_r50_fpn_ms-1x_coco.py', 'none'])
    with pytest.raises(FileNotFoundError, match='missing.pth does not exist'):
        cli.main('knn', ['c.py', str(tmp_path / 'missing.pth')])
    with pytest.raises(SystemExit, match='NAME is one of det, knn'):
        cli.entry_point(['--help'])


def test_the_record_carries_the_checkpoint_load_report(tmp_path):
    from builders.checkpoints import save_resnet_checkpoint
    from mmengine.config import Config

    from mmssl.benchmarks.records import read_result
    from mmssl.models import ResNet
    from mmssl.utils import BackboneWeights
    save_resnet_checkpoint(tmp_path / 'full.pth', depth=18)
    state = torch.load(tmp_path / 'full.pth', weights_only=True)
    state['state_dict'] = {key: value for key, value in state['state_dict'].items()
                           if not key.startswith('backbone.layer4.1.bn2.')}  # a whole layer, 4% of the keys
    torch.save(state, tmp_path / 'partial.pth')
    benchmark = get_benchmark('knn')
    weights = BackboneWeights.from_checkpoint(str(tmp_path / 'partial.pth'))
    report = weights.load_into(ResNet(depth=18))
    benchmark.write_record(str(tmp_path), {'k1/top1': 50.0}, Config(dict(dataset_name='tiny')), weights, report)
    load = read_result(benchmark.record_path(str(tmp_path)))['extra']['checkpoint_load']
    assert (load['matched'], len(load['missing']), load['unexpected']) == (115, 4, 0)
    assert load['not_loaded_modules'] == {'layer4.1.bn2': 4} and load['source'] == str(tmp_path / 'partial.pth')
