"""VOC07 linear SVM over extracted features: ``run_svm.py FEATURE_DIR --work-dir DIR [--layers ...]``.

For every layer and class: cost chosen by 3-fold stratified unshuffled CV on trainval (AP), refit on all of
trainval, all-point AP on test (difficult ignored). ``--solver fast`` (default; batched Newton on the shared Gram
matrix, torch, CPU or ``--device cuda``) and ``--solver sklearn`` (LinearSVC, the reference) solve the same
problems. A killed run resumes where it stopped when started again with the same work dir. Writes
``WORK_DIR/<layer>/voc07_svm.json`` and the record ``WORK_DIR/result_svm_voc07.json``; prints the table.
"""
import argparse

from mmssl.apis.svm_benchmark import add_solver_arguments, run_svm, svm_table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('feature_dir', help='folder written by extract.py')
    parser.add_argument('--work-dir', required=True, help='outputs (per-class JSON, results, record)')
    args = add_solver_arguments(parser).parse_args(argv)
    results = run_svm(args.feature_dir, args.work_dir, args.layers, args.solver, args.costs, args.device,
                      args.n_jobs)
    print(svm_table(results))
    return results


if __name__ == '__main__':
    main()
