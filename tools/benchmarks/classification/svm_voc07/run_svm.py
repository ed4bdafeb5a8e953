"""VOC07 linear SVM over extracted features: ``run_svm.py FEATURE_DIR --work-dir DIR [--layers ...]``.

For every layer and class: cost chosen by 3-fold stratified unshuffled CV on trainval (AP), refit on all of
trainval, all-point AP on test (difficult ignored). ``--solver fast`` (default; batched Newton on the shared Gram
matrix, torch, CPU or ``--device cuda``) and ``--solver sklearn`` (LinearSVC, the reference) solve the same
problems. A killed run resumes where it stopped (per layer and class) when started again with the same work dir;
results there of other features, weights or settings are refused (``--recompute`` deletes them). Writes
``WORK_DIR/<layer>/voc07_svm.json`` and the record ``WORK_DIR/result_svm_voc07.json``; prints the table.
"""
import argparse

from mmssl.benchmarks.svm import VOC07SVM, add_solver_arguments, svm_table
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.work_dir_lock import work_dir_lock


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('feature_dir', help='folder written by extract.py')
    parser.add_argument('--work-dir', required=True, help='outputs (per-class JSON, results, record)')
    args = vars(add_solver_arguments(parser).parse_args(argv))
    feature_dir, work_dir = args.pop('feature_dir'), args.pop('work_dir')
    with work_dir_lock(work_dir):
        results = VOC07SVM().run_on_features(feature_dir, work_dir, **args)
    print(svm_table(results))
    return results


if __name__ == '__main__':
    run_cli(main)
