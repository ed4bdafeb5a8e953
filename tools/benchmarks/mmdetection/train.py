"""Train a detection benchmark with mmdet from an mmssl pre-training checkpoint.

    python tools/benchmarks/mmdetection/train.py CONFIG PRETRAIN [--work-dir DIR] [--cfg-options ...]

PRETRAIN is a full pre-training checkpoint (keys ``backbone.*``, as tools/train.py writes it); its backbone
weights go into every module the config's ``mmssl.PretrainedWeightsCheckHook`` lists, and training stops before
the first iteration unless they really arrived. The final validation metrics are printed and written as a
result record to ``WORK_DIR/result_detection.json``; ``--pretrain-config CFG`` records the pre-training config.
Several processes: ``dist_train.sh``; Slurm: ``slurm_train.sh``. The same as ``python -m mmssl.benchmarks det ...``."""
from mmssl.benchmarks.cli import main as run_benchmark
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return run_benchmark('det', argv, prog='tools/benchmarks/mmdetection/train.py')


if __name__ == '__main__':
    run_cli(main)
