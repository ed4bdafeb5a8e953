"""kNN evaluation of a frozen backbone: ``knn.py CONFIG CHECKPOINT [--work-dir DIR] [--pretrain-config CFG]``.

CHECKPOINT is a full pre-training checkpoint, a backbone-only file, or ``none`` (seeded random backbone); the load is
checked. The config names the labelled neighbour set (``train_dataloader``), the query set (``val_dataloader``) and
``knn=dict(ks=(10, 20, 100, 200), temperature=0.07)``. Prints top-1 / top-5 per k and writes a result record to
``WORK_DIR/result_knn.json``. The features in WORK_DIR are reused for the same checkpoint (sha256) and config;
another checkpoint's are refused (``--recompute`` extracts again). Distributed extraction:
``torchrun --nproc_per_node N knn.py ... --launcher pytorch``. The same as ``python -m mmssl.benchmarks knn ...``."""
from mmssl.benchmarks.cli import main as run_benchmark
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return run_benchmark('knn', argv, prog='tools/benchmarks/classification/knn.py')


if __name__ == '__main__':
    run_cli(main)
