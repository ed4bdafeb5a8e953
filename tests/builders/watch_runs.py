"""A fake training for the watch tests: ResNet-18 checkpoints in mmengine's format, written the way mmengine
writes them (in place, then ``last_checkpoint``), optionally slowly in chunks; and a suite file of the kNN demo
config on tiny data."""
import functools
import io
import os
import time

from builders import REPO_ROOT

KNN_DEMO = REPO_ROOT / 'configs/benchmarks/classification/fashion_mnist/resnet18_knn_fmnist-demo.py'

#: the ``meta.cfg`` a fake training records (mmengine stores the config's text there)
MODEL_CFG = "model = dict(type='SimCLR', backbone=dict(type='ResNet', depth=18), neck=dict(type='{neck}'))\n"


@functools.lru_cache(maxsize=1)
def _resnet18_template() -> dict:
    from builders.checkpoints import resnet18_state
    return resnet18_state(0)


def checkpoint_bytes(step: int, seed: int = 0, neck: str = 'NonLinearNeck', unit: str = 'iter') -> bytes:
    """The bytes of an mmengine checkpoint of a ResNet-18: one initialisation moved by noise drawn from ``seed``
    and ``step`` (each step other weights; cheaper than a new initialisation)."""
    import torch
    generator = torch.Generator().manual_seed(seed * 1000 + step)
    state = {f'backbone.{key}': value + 0.01 * torch.randn(value.shape, generator=generator)
             if value.is_floating_point() else value for key, value in _resnet18_template().items()}
    buffer = io.BytesIO()
    torch.save(dict(meta=dict(epoch=step if unit == 'epoch' else 0, iter=step, cfg=MODEL_CFG.format(neck=neck)),
                    state_dict=state), buffer)
    return buffer.getvalue()


def write_checkpoint(work_dir, step: int, seed: int = 0, neck: str = 'NonLinearNeck', unit: str = 'iter',
                     chunks: int = 1, pause: float = 0.0, last_checkpoint: bool = True) -> str:
    """Write ``<unit>_<step>.pth`` into ``work_dir`` in place (as mmengine does), in ``chunks`` pieces with
    ``pause`` seconds after each but the last, then ``last_checkpoint`` naming it; returns its path."""
    os.makedirs(work_dir, exist_ok=True)
    data = checkpoint_bytes(step, seed, neck, unit)
    path = os.path.join(str(work_dir), f'{unit}_{step}.pth')
    size = -(-len(data) // chunks)
    with open(path, 'wb') as f:
        for index in range(chunks):
            f.write(data[index * size:(index + 1) * size])
            f.flush()
            if index < chunks - 1:
                time.sleep(pause)
    if last_checkpoint:
        with open(os.path.join(str(work_dir), 'last_checkpoint'), 'w') as f:
            f.write(path)
    return path


def write_knn_suite(path, data: dict, ks: str = '[1]') -> str:
    """A suite file whose ``knn`` entry is the kNN demo config on ``data`` (a ``make_fashion_mnist`` tree)."""
    options = {f'{split}_dataloader.dataset.data_root': data['data_root'] for split in ('train', 'val')}
    options.update({'train_dataloader.num_workers': 0, 'val_dataloader.num_workers': 0, 'knn.ks': ks})
    lines = ['knn:', f'  config: {KNN_DEMO}', '  cfg_options:']
    lines += [f'    {key}: {value}' for key, value in options.items()]
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return str(path)


class StandIn:
    """Stands in for the benchmarks of a watch: writes a ``knn`` or ``probe`` record whose metrics come from the
    weights' mean, and remembers every call (name, checkpoint path, sha256); ``fail_at``: the call that raises
    ``KeyboardInterrupt`` (a kill)."""

    def __init__(self, fail_at=None):
        self.calls, self.fail_at = [], fail_at

    def __call__(self, name, weights, work_dir):
        self.calls.append((name, weights.path, weights.sha256))
        if self.fail_at == len(self.calls):
            raise KeyboardInterrupt('killed')
        value = 0.0 if weights.is_random else float(weights.state_dict['conv1.weight'].mean()) * 1e3
        metrics = {'k1/top1': value} if name == 'knn' else {'feature4/top1': value, 'feature5/top1': value + 1}
        from mmssl.benchmarks.base import get_benchmark
        from mmssl.benchmarks.records import write_result
        benchmark = get_benchmark(name)
        seeds = {'random_init': weights.random_init_seed} if weights.is_random else {}
        return write_result(benchmark.record_path(work_dir), benchmark.record_name, metrics,
                            checkpoint=weights.record(), seeds=seeds)

    def steps(self, name='knn'):
        return [path.rsplit('/', 1)[1] for benchmark, path, _ in self.calls if benchmark == name and path]
