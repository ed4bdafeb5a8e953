"""Every registered benchmark (and the plugin example) writes a record saying how its weights were read and
loaded: ``extra.checkpoint_format`` and ``extra.checkpoint_load``, for a checkpoint and for the random backbone."""
import os.path as osp
import sys

import pytest
from builders.checkpoints import save_resnet_checkpoint
from builders.datasets import make_imagenet, make_voc07
from builders.dense_datasets import make_voc12aug, make_voc0712

import mmssl.benchmarks.all  # noqa: F401  (registers every benchmark of the package)
from mmssl.benchmarks import cli
from mmssl.benchmarks.base import benchmark_names, get_benchmark
from mmssl.benchmarks.records import read_result
from mmssl.registry import BENCHMARKS

pytestmark = pytest.mark.slow

CLASSIFICATION = 'configs/benchmarks/classification'
FMNIST_SVM = f'{CLASSIFICATION}/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
FMNIST_KNN = f'{CLASSIFICATION}/fashion_mnist/resnet18_knn_fmnist-demo.py'
FMNIST_PROBE = f'{CLASSIFICATION}/fashion_mnist/resnet18_probe_fmnist-demo.py'
FMNIST_MHEAD = f'{CLASSIFICATION}/fashion_mnist/resnet18_mhead_1xb64-steplr-4e_fmnist-demo.py'
PLACES_LOWSHOT = f'{CLASSIFICATION}/places205/resnet50_svm-lowshot_places205.py'
SEMI_SUP_GRID = f'{CLASSIFICATION}/imagenet/imagenet_1percent'
CENTROID_PROJECT = 'projects/centroid_benchmark'
CENTROID = f'{CENTROID_PROJECT}/configs/resnet18_centroid_fmnist-demo.py'
VOC_C4 = 'configs/benchmarks/mmdetection/voc0712/faster-rcnn_r50-c4_ms-24k_voc0712.py'
VOC_FCN = 'configs/benchmarks/mmsegmentation/voc12aug/fcn_r50-d8_4xb4-20k_voc12aug-512x512.py'
SVM_CLASSES = ['tshirt', 'trouser', 'pullover']
PLUGIN = 'centroid'


def options(**values) -> list:
    return ['--cfg-options'] + [f'{key}={value}' for key, value in values.items()]


def loaders(*names, **extra) -> dict:
    return {f'{name}.{key}': value for name in names
            for key, value in dict(num_workers=0, persistent_workers=False, **extra).items()}


def svm_args(root):
    data = make_voc07(str(root / 'voc'), classes=SVM_CLASSES, trainval=9, test=6)['data_root']
    return [FMNIST_SVM, '--layers', 'feature5', '--costs', '0.1,1', *options(
        **{f'{split}_dataloader.dataset.{key}': value for split in ('trainval', 'test')
           for key, value in (('data_root', data), ('metainfo.classes', SVM_CLASSES))},
        **loaders('trainval_dataloader', 'test_dataloader'))]


def lowshot_args(root):
    args = svm_args(root)
    # k=2: the cost is chosen by cross-validation, which needs two positives per training set
    return args[:5] + ['--shots', '2', '--num-samples', '1', '--allow-small-pools'] + args[5:]


def places_args(root):
    from builders.datasets import make_places205
    data = make_places205(str(root / 'places205'), train_per_class=4, val_per_class=2)['data_root']
    return [PLACES_LOWSHOT, '--layers', 'feature5', '--costs', '0.1,1', '--shots', '2', '--num-samples', '1',
            *options(**{'model.backbone.depth': 18, 'trainval_dataloader.dataset.data_root': data,
                        'test_dataloader.dataset.data_root': data},
                     **loaders('trainval_dataloader', 'test_dataloader'))]


def knn_args(root, fmnist):
    return [FMNIST_KNN, *options(**{f'{split}_dataloader.dataset.data_root': fmnist['data_root']
                                    for split in ('train', 'val')}, **{'knn.ks': '[1]'},
                                 **loaders('train_dataloader', 'val_dataloader'))]


def probe_args(root, fmnist):
    # one image per class: no held-out split to spare, so the one C is chosen on val
    return [FMNIST_PROBE, *options(**{f'{split}_dataloader.dataset.data_root': fmnist['data_root']
                                      for split in ('train', 'val')},
                                   **{'probe.selection': 'val', 'probe.costs': '[1.0]', 'probe.taps': "['feature5']"},
                                   **loaders('train_dataloader', 'val_dataloader'))]


def linear_args(root, fmnist):
    return [FMNIST_MHEAD, *options(**{f'{split}_dataloader.dataset.data_root': fmnist['data_root']
                                      for split in ('train', 'val')},
                                   **{'train_dataloader.batch_size': 4, 'train_cfg.max_epochs': 1,
                                      'train_cfg.val_interval': 1},
                                   **loaders('train_dataloader', 'val_dataloader'))]


def semi_sup_args(root):
    data = make_imagenet(str(root / 'imagenet'), train_per_class=1, val_per_class=1)['data_root']
    return [SEMI_SUP_GRID, '--lrs', '1e-2', '--heads', '1', *options(
        **{f'{split}_dataloader.dataset.data_root': data for split in ('train', 'val')},
        **{'train_dataloader.batch_size': 2, 'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1},
        **loaders('train_dataloader', 'val_dataloader'))]


def det_args(root):
    data = make_voc0712(str(root / 'voc0712'))['data_root']
    values = {'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1, 'default_hooks.checkpoint.interval': 1,
              'train_dataloader.batch_size': 1, 'model.train_cfg.rpn_proposal.nms_pre': 200,
              'model.train_cfg.rpn_proposal.max_per_img': 64, 'model.train_cfg.rcnn.sampler.num': 32,
              'model.test_cfg.rpn.nms_pre': 200, 'model.test_cfg.rpn.max_per_img': 32,
              'model.test_cfg.rcnn.score_thr': 0.0, 'model.test_cfg.rcnn.max_per_img': 20,
              **loaders('train_dataloader', 'val_dataloader', 'test_dataloader')}
    for index in (0, 1):
        values[f'train_dataloader.dataset.datasets.{index}.data_root'] = data
        values[f'train_dataloader.dataset.datasets.{index}.pipeline.2.scales'] = '[(160,96),(160,128)]'
    for loader in ('val_dataloader', 'test_dataloader'):
        values.update({f'{loader}.batch_size': 1, f'{loader}.dataset.data_root': data,
                       f'{loader}.dataset.pipeline.1.scale': '(160,128)'})
    return [VOC_C4, *options(**values)]


def seg_args(root):
    data = make_voc12aug(str(root / 'voc12aug'))['data_root']
    values = {'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1, 'default_hooks.checkpoint.interval': 1,
              'train_dataloader.batch_size': 2, 'train_dataloader.dataset.data_root': data,
              'train_dataloader.dataset.pipeline.2.scale': '(128,64)',
              'train_dataloader.dataset.pipeline.3.crop_size': '(64,64)',
              'train_dataloader.dataset.pipeline.6.size': '(64,64)', 'model.data_preprocessor.size': '(64,64)',
              **loaders('train_dataloader', 'val_dataloader', 'test_dataloader')}
    for loader in ('val_dataloader', 'test_dataloader'):
        values.update({f'{loader}.batch_size': 1, f'{loader}.dataset.data_root': data,
                       f'{loader}.dataset.pipeline.1.scale': '(128,64)'})
    return [VOC_FCN, *options(**values)]


def centroid_args(root, fmnist):
    return [CENTROID, *options(**{f'{split}_dataloader.dataset.data_root': fmnist['data_root']
                                  for split in ('train', 'val')}, **loaders('train_dataloader', 'val_dataloader'))]


#: benchmark -> (the ResNet depth of its checkpoint, its tiny run's CONFIG and options)
RUNS = dict(
    svm=(18, lambda root, fmnist: svm_args(root)),
    svm_coco2014=(18, lambda root, fmnist: svm_args(root)),  # the COCO protocol is VOC07's: any SVM config runs it
    lowshot=(18, lambda root, fmnist: lowshot_args(root)),
    lowshot_places205=(18, lambda root, fmnist: places_args(root)),
    knn=(18, knn_args),
    probe=(18, probe_args),
    linear=(18, linear_args),
    linear_avgpool=(18, linear_args),
    semi_sup=(50, lambda root, fmnist: semi_sup_args(root)),
    det=(50, lambda root, fmnist: det_args(root)),
    seg=(50, lambda root, fmnist: seg_args(root)),
    centroid=(18, centroid_args),
)


@pytest.fixture(scope='module')
def plugin(repo_root):
    """The plugin example registered in this process (as its config's ``custom_imports`` does), then removed."""
    sys.path.insert(0, str(repo_root / CENTROID_PROJECT))
    import centroid_benchmark  # noqa: F401
    yield
    sys.path.remove(str(repo_root / CENTROID_PROJECT))
    BENCHMARKS.module_dict.pop('NearestCentroid', None)
    for module in ('centroid_benchmark', 'centroid_benchmark.centroid'):
        sys.modules.pop(module, None)


def test_every_registered_benchmark_has_a_tiny_run(plugin):
    assert sorted(RUNS) == benchmark_names()


def registered_names():
    return sorted(set(benchmark_names()) | {PLUGIN})


@pytest.mark.parametrize('name', registered_names())
def test_every_record_says_how_its_weights_were_read_and_loaded(name, plugin, tmp_path, fmnist_tiny, repo_root,
                                                                monkeypatch):
    monkeypatch.chdir(repo_root)
    depth, run = RUNS[name]
    benchmark = get_benchmark(name)
    args = run(tmp_path, fmnist_tiny)
    save_resnet_checkpoint(tmp_path / 'pretrain.pth', depth=depth)
    runs = [(str(tmp_path / 'pretrain.pth'), tmp_path / 'checkpoint')]
    if benchmark.accepts_random:
        runs.append(('none', tmp_path / 'random'))
    for checkpoint, work_dir in runs:
        cli.main(name, [args[0], checkpoint, '--work-dir', str(work_dir), *args[1:]])
        record = read_result(benchmark.record_path(str(work_dir)))
        extra = record['extra']
        assert isinstance(extra['checkpoint_load'], dict), (name, checkpoint)
        if checkpoint == 'none':
            assert record['checkpoint'] is None and extra['checkpoint_format'] == 'random-init'
            assert extra['checkpoint_load']['mode'] == 'random-init'
            assert extra['checkpoint_load']['seed'] == record['seeds']['random_init'] == 0
        else:
            assert record['checkpoint']['path'] == checkpoint
            assert extra['checkpoint_format'] == 'mmssl'
            load = extra['checkpoint_load']
            assert load['matched'] > 0 and not load['shape_mismatched'] and load['source'] == checkpoint, load
            assert osp.isfile(checkpoint)
