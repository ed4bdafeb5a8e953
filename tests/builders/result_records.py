"""Result records of several models over seeds, written with ``write_result`` (for the comparison report)."""
from mmssl.benchmarks.records import write_result

CONFIG = 'configs/benchmarks/classification/knn_imagenet.py'
PRETRAIN = 'configs/selfsup/simclr/simclr_resnet18.py'
MODEL_A = 'simclr_resnet18 @ epoch_10.pth'
A_TOP1 = [60.0, 62.5, 61.0]
RANDOM_TOP1 = [20.0, 22.0, 19.5]


def write_runs(root, name, values, *, checkpoint=True, seeds=(0, 1, 2), metric='top1', dataset='ImageNet',
               config=CONFIG):
    """One kNN record per seed under ``root/name/seed<s>``; the checkpoint is a dict (path, sha256), as a feature
    folder's meta gives it, so no file need exist."""
    paths = []
    for seed, value in zip(seeds, values):
        path = root / name / f'seed{seed}' / 'result_knn.json'
        ckpt = dict(path=f'work_dirs/{name}/seed{seed}/epoch_10.pth', sha256=f'{name}{seed}'.ljust(64, '0'))
        write_result(str(path), 'knn', {metric: value, 'top5': value + 10}, checkpoint=ckpt if checkpoint else None,
                     pretrain_config=PRETRAIN if checkpoint else None, benchmark_config=config, dataset=dataset,
                     seeds=dict(seed=seed), extra=dict(selection=dict(rule='fixed k', k=20)))
        paths.append(path)
    return paths
