"""Inputs that differ from each other in one thing a feature folder is reused for: a checkpoint holding two weight
sets (read with ``--checkpoint-key``), two VOC07 trees, an image list rewritten with other images of its length;
the command line of the demo SVM config on such a tree."""
import os.path as osp
from typing import List

from builders.datasets import make_voc07
from builders.files import write_lines

FMNIST_SVM = 'configs/benchmarks/classification/fashion_mnist/resnet18_svm_voc07_fmnist-demo.py'
CLASSES = ['tshirt', 'trouser', 'pullover']
# Options of each SVM benchmark that keep a run on a dozen images short (and the low-shot pools legal).
OWN_OPTIONS = dict(svm=['--costs', '0.1,1'],
                   lowshot=['--costs', '0.1,1', '--shots', '2', '--num-samples', '2', '--allow-small-pools'])


def svm_args(repo_root, benchmark, checkpoint, work_dir, data_root, *extra, test_root=None):
    """The demo SVM config on a tiny VOC07 tree (the test split's tree may be another one)."""
    return [str(repo_root / FMNIST_SVM), str(checkpoint), '--work-dir', str(work_dir), '--layers', 'feature5',
            *OWN_OPTIONS[benchmark], *extra, '--cfg-options',
            f'trainval_dataloader.dataset.data_root={data_root}', 'trainval_dataloader.num_workers=0',
            f'test_dataloader.dataset.data_root={test_root or data_root}', 'test_dataloader.num_workers=0',
            f'trainval_dataloader.dataset.metainfo.classes={CLASSES}',
            f'test_dataloader.dataset.metainfo.classes={CLASSES}']


def voc_tree(root, seed):
    """A VOC07 tree of the three classes (9 trainval, 6 test images); returns its data root."""
    return make_voc07(str(root), classes=CLASSES, trainval=9, test=6, seed=seed)['data_root']


def save_two_weight_sets(path, depth: int = 18) -> str:
    """A checkpoint whose ``state_dict`` and ``model`` hold two different randomly initialised ResNets (both with
    ``backbone.`` keys), so that ``--checkpoint-key`` decides which one is evaluated; returns ``path``."""
    import torch

    from mmssl.models import ResNet
    weight_sets = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        backbone = ResNet(depth=depth)
        backbone.init_weights()
        weight_sets.append({f'backbone.{k}': v for k, v in backbone.state_dict().items()})
    torch.save({'state_dict': weight_sets[0], 'model': weight_sets[1], 'meta': {'iter': 1}}, path)
    return str(path)


def rewrite_list_same_length(root: str, ann_file: str, other: str) -> List[str]:
    """Rewrite the image list ``root/ann_file`` with the first lines of ``root/other`` (images of another split),
    as many as it had: the same length, other content. Returns the new lines."""
    with open(osp.join(root, ann_file)) as f:
        count = len([line for line in f if line.strip()])
    with open(osp.join(root, other)) as f:
        lines = [line.strip() for line in f if line.strip()][:count]
    if len(lines) != count:
        raise ValueError(f'{other} has fewer than {count} lines')
    write_lines(osp.join(root, ann_file), lines)
    return lines
