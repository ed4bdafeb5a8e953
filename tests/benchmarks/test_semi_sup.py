"""The semi-supervised grid reuses a finished point only for the same input."""
import pytest
from builders.checkpoints import save_resnet_checkpoint

from mmssl.benchmarks.base import get_benchmark
from mmssl.benchmarks.records import read_result, write_result
from mmssl.benchmarks.semi_sup import point_record_mismatch
from mmssl.utils import BackboneWeights, register_all_modules

GRID = 'configs/benchmarks/classification/imagenet/imagenet_1percent'


def point_record(path, weights: BackboneWeights, cfg_options: dict) -> dict:
    """A finished grid point's record as the linear benchmark writes it."""
    extra = dict(checkpoint_format=weights.layout, cfg_options=cfg_options)
    seeds = {} if weights.record() else dict(random_init=weights.random_init_seed)
    return write_result(str(path), 'linear_eval', {'accuracy/top1': 50.0, 'accuracy/top5': 90.0},
                        checkpoint=weights.record(), seeds=seeds, extra=extra)


def test_a_point_record_is_this_inputs_only_for_the_same_weights_and_overrides(tmp_path):
    save_resnet_checkpoint(tmp_path / 'a.pth', depth=18)
    save_resnet_checkpoint(tmp_path / 'b.pth', depth=18, full=False)
    a, b = BackboneWeights.from_arg(str(tmp_path / 'a.pth')), BackboneWeights.from_arg(str(tmp_path / 'b.pth'))
    record = point_record(tmp_path / 'a.json', a, {'train_dataloader.batch_size': 2, 'x': (1, 2)})
    assert point_record_mismatch(record, a, {'train_dataloader.batch_size': 2, 'x': (1, 2)}) is None
    assert 'train_dataloader.batch_size' in point_record_mismatch(record, a, {'train_dataloader.batch_size': 4})
    other = point_record_mismatch(record, b, {'train_dataloader.batch_size': 2, 'x': (1, 2)})
    assert a.sha256 in other and b.sha256 in other
    random = point_record(tmp_path / 'r.json', BackboneWeights.random(0), {})
    assert point_record_mismatch(random, BackboneWeights.random(0), {}) is None
    assert 'random_init 0 in the record, 1 now' in point_record_mismatch(random, BackboneWeights.random(1), {})


def test_points_of_another_checkpoint_are_refused_before_any_training(tmp_path, repo_root):
    register_all_modules()
    save_resnet_checkpoint(tmp_path / 'a.pth', depth=50)
    save_resnet_checkpoint(tmp_path / 'b.pth', depth=50, full=False)
    benchmark = get_benchmark('semi_sup')
    cfg = benchmark.load_config(str(repo_root / GRID))
    work_dir = tmp_path / 'grid'
    point = sorted((repo_root / GRID).glob('*.py'))[0].stem
    stale = work_dir / point / 'result_linear_eval.json'
    point_record(stale, BackboneWeights.from_arg(str(tmp_path / 'b.pth')), {})
    with pytest.raises(ValueError, match='holds grid points of another input') as error:
        benchmark.run(cfg, BackboneWeights.from_arg(str(tmp_path / 'a.pth')), str(work_dir))
    assert str(stale) in str(error.value) and '--recompute' in str(error.value)
    assert read_result(str(stale))['checkpoint']['path'] == str(tmp_path / 'b.pth')  # nothing trained over it
