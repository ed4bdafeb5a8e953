"""Checkpoint to VOC07 SVM and low-shot tables in one command.

    python tools/benchmarks/classification/svm_voc07/svm_benchmark.py CONFIG CHECKPOINT --work-dir DIR

Extracts feature1-5 with CONFIG (CHECKPOINT: full or backbone-only checkpoint, or ``none``) into ``DIR/features``,
runs the VOC07 SVM (``DIR/svm``) and the low-shot SVMs (``DIR/lowshot``) on every layer, and prints both tables.
Each stage resumes: finished features, classes and k are not recomputed. ``DIR/features`` is reused only for the
same checkpoint (sha256), config and layers, results only for the same features and settings; anything else is
refused, and ``--recompute`` extracts / computes it again. One of the two alone:
``python -m mmssl.benchmarks svm|lowshot CONFIG CHECKPOINT ...``. For multi-GPU extraction run
``dist_extract.sh ... --out DIR/features`` first; the features found there are used."""
from mmssl.benchmarks.cli import main as run_benchmark
from mmssl.utils.cli_errors import run_cli


def main(argv=None):
    return run_benchmark(('svm', 'lowshot'), argv, prog='tools/benchmarks/classification/svm_voc07/svm_benchmark.py')


if __name__ == '__main__':
    run_cli(main)
