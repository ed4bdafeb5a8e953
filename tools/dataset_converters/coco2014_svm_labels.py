"""Image-level COCO2014 labels for the linear-SVM benchmark, from the instances annotation files.

Writes ``OUT/{train2014,val2014}_labels.npy`` (int8 N x 80, 1 / -1), ``OUT/{split}_ids.txt`` (file names without
extension, sorted) and ``OUT/classes.txt``, which ``COCO2014Classification`` reads. The label rule is FAIR's
(``create_coco_data_files.py``); see ``mmssl.datasets.coco``.

Example::

    python tools/dataset_converters/coco2014_svm_labels.py data/coco
        # reads data/coco/annotations/instances_{train,val}2014.json, checks data/coco/{train,val}2014/,
        # writes data/coco/svm_labels/
"""
import argparse
import os.path as osp

from mmssl.datasets.coco import convert_coco_svm_labels
from mmssl.utils.cli_errors import run_cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('coco_root', help='folder with annotations/ and the image folders')
    parser.add_argument('--splits', nargs='+', default=['train2014', 'val2014'])
    parser.add_argument('--out', help='label folder (default COCO_ROOT/svm_labels)')
    parser.add_argument('--no-image-check', action='store_true', help='do not check that the images exist')
    return parser.parse_args()


def main():
    args = parse_args()
    out = args.out or osp.join(args.coco_root, 'svm_labels')
    for split in args.splits:
        ann_file = osp.join(args.coco_root, 'annotations', f'instances_{split}.json')
        img_dir = None if args.no_image_check else osp.join(args.coco_root, split)
        paths = convert_coco_svm_labels(ann_file, out, split, img_dir)
        print(f'{split}: wrote {paths["labels"]} and {paths["ids"]}')


if __name__ == '__main__':
    run_cli(main)
