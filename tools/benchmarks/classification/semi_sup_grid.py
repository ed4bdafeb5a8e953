"""Run the ImageNet 1% / 10% fine-tuning grid and report the best setting.

    python tools/benchmarks/classification/semi_sup_grid.py CONFIG_DIR CHECKPOINT [--lrs 1e-2 ...] [--heads 10 ...]
        [--work-dir DIR] [--pretrain-config CFG] [--cfg-options ...]

CONFIG_DIR is a folder of grid configs (``configs/benchmarks/classification/imagenet/imagenet_{1,10}percent/``), one
per backbone lr x head lr multiplier; each point is a linear-evaluation run in ``WORK_DIR/<config name>`` (a point
with a result record is not trained again, so an interrupted grid resumes). The grid's record
``WORK_DIR/result_semi_sup.json`` holds the best point's top-1 / top-5. ``--cfg-options`` apply to every point.
The same as ``python -m mmssl.benchmarks semi_sup ...``."""
from mmssl.benchmarks.cli import main as run_benchmark
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return run_benchmark('semi_sup', argv, prog='tools/benchmarks/classification/semi_sup_grid.py')


if __name__ == '__main__':
    run_cli(main)
