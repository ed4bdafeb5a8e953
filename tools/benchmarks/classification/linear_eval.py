"""Linear evaluation / fine-tuning of a pre-trained backbone with a benchmark config.

    python tools/benchmarks/classification/linear_eval.py CONFIG CHECKPOINT [--work-dir DIR] [--pretrain-config CFG]
        [--cfg-options ...] [--resume [CKPT]] [--amp] [--auto-scale-lr] [--no-validate]

CHECKPOINT is a full pre-training checkpoint (``backbone.*`` keys, as tools/train.py writes) or a backbone-only
file; ``none`` evaluates the seeded random backbone (the baseline row). The load is checked before training starts.
The final validation metrics are printed and written as a result record to ``WORK_DIR/result_linear_eval.json``
(``tools/analysis_tools/gen_model_zoo.py --add-result`` puts it in the model zoo). Several processes:
``linear_eval.sh``. The same as ``python -m mmssl.benchmarks linear ...``."""
from mmssl.benchmarks.cli import main as run_benchmark
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return run_benchmark('linear', argv, prog='tools/benchmarks/classification/linear_eval.py')


if __name__ == '__main__':
    run_cli(main)
