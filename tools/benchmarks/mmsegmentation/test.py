"""Evaluate a segmentation model trained by tools/benchmarks/mmsegmentation/train.py on the config's test set.

    python tools/benchmarks/mmsegmentation/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...]

The metrics are printed and written as a result record to ``WORK_DIR/result_segmentation_test.json``.
Several processes: ``dist_test.sh``.
"""
from mmssl.benchmarks.dense import main_test
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return main_test(argv, 'mmseg', prog='tools/benchmarks/mmsegmentation/test.py')


if __name__ == '__main__':
    run_cli(main)
