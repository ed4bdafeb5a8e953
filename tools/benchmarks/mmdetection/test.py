"""Evaluate a detection model trained by tools/benchmarks/mmdetection/train.py on the config's test set.

    python tools/benchmarks/mmdetection/test.py CONFIG CHECKPOINT [--work-dir DIR] [--cfg-options ...]

The metrics are printed and written as a result record to ``WORK_DIR/result_detection_test.json``.
Several processes: ``dist_test.sh``.
"""
from mmssl.benchmarks.dense import main_test
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return main_test(argv, 'mmdet', prog='tools/benchmarks/mmdetection/test.py')


if __name__ == '__main__':
    run_cli(main)
