"""Result records of several models over seeds, written with ``write_result`` (for the comparison report)."""
from mmssl.benchmarks.records import write_result

CONFIG = 'configs/benchmarks/classification/knn_imagenet.py'
PRETRAIN = 'configs/selfsup/simclr/simclr_resnet18.py'
MODEL_A = 'simclr_resnet18 @ epoch_10.pth'
A_TOP1 = [60.0, 62.5, 61.0]
RANDOM_TOP1 = [20.0, 22.0, 19.5]
#: A model of the repository's model zoo with published numbers, and its shipped ImageNet kNN config.
ZOO_PRETRAIN = 'configs/selfsup/relative_loc/relative-loc_resnet50_8xb64-steplr-70e_in1k.py'
ZOO_MODEL = 'relative-loc_resnet50_8xb64-steplr-70e_in1k @ epoch_10.pth'
ZOO_KNN = 'configs/benchmarks/classification/knn/resnet50_knn_in1k.py'


def _seeds(key, seed) -> dict:
    if key == 'seed':
        return dict(seed=seed)
    return dict(seed=0) if key is None else {'seed': 0, key: seed}


def write_runs(root, name, values, *, checkpoint=True, seeds=(0, 1, 2), metric='top1', dataset='ImageNet',
               config=CONFIG, seed_key='seed', extra=None, pretrain_config=PRETRAIN):
    """One kNN record per seed under ``root/name/seed<s>``; the checkpoint is a dict (path, sha256), as a feature
    folder's meta gives it, so no file need exist. ``seed_key`` other than ``'seed'`` records each seed under that
    key beside the benchmark's own fixed ``seed`` 0 (``random_init``, ``pretrain``), ``None`` the fixed seed only
    (a record that does not say which pre-training it is); ``extra`` replaces the default (a stated selection
    rule)."""
    paths = []
    for seed, value in zip(seeds, values):
        path = root / name / f'seed{seed}' / 'result_knn.json'
        ckpt = dict(path=f'work_dirs/{name}/seed{seed}/epoch_10.pth', sha256=f'{name}{seed}'.ljust(64, '0'))
        write_result(str(path), 'knn', {metric: value, 'top5': value + 10}, checkpoint=ckpt if checkpoint else None,
                     pretrain_config=pretrain_config if checkpoint else None, benchmark_config=config,
                     dataset=dataset, seeds=_seeds(seed_key, seed),
                     extra=dict(selection=dict(rule='fixed k', k=20)) if extra is None else extra)
        paths.append(path)
    return paths
