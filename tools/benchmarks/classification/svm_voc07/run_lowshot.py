"""VOC07 low-shot SVMs over extracted features: ``run_lowshot.py FEATURE_DIR --work-dir DIR``.

For k in 1, 2, 4, ..., 96 and 5 seeded samples: each class trains on k positives and 19k negatives of trainval
(difficult never drawn) and is tested on the whole test set; mean / min / max / std of mAP over samples per k.
The cost per k is chosen by CV inside the low-shot training sets (never on test);
``--legacy-cost-selection`` picks it by mean test mAP, as the published tables did. ``--samples FILE`` reads
training sets from a file (``--save-samples FILE`` writes the drawn ones in that format). Resumes finished k.
Writes ``WORK_DIR/<layer>/lowshot_svm.json``, the record ``WORK_DIR/result_lowshot_svm_voc07.json`` and a plot.
"""
import argparse
import os.path as osp

from mmssl.apis.svm_benchmark import add_solver_arguments, lowshot_table, plot_lowshot, run_lowshot
from mmssl.evaluation.svm.lowshot import DEFAULT_SHOTS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('feature_dir', help='folder written by extract.py')
    parser.add_argument('--work-dir', required=True, help='outputs (per-k JSON, results, record, plot)')
    parser.add_argument('--shots', type=int, nargs='+', default=list(DEFAULT_SHOTS))
    parser.add_argument('--num-samples', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0, help='seed of the low-shot training sets')
    parser.add_argument('--samples', help='read the training sets from this JSON file instead of drawing them')
    parser.add_argument('--save-samples', help='write the training sets used to this JSON file')
    parser.add_argument('--legacy-cost-selection', action='store_true',
                        help='choose the cost by mean TEST mAP (published tables; optimistic)')
    parser.add_argument('--plot', help='PNG of mAP vs k (default WORK_DIR/lowshot.png)')
    args = add_solver_arguments(parser).parse_args(argv)
    results = run_lowshot(args.feature_dir, args.work_dir, args.layers, args.shots, args.num_samples, args.seed,
                          args.samples, args.save_samples, args.legacy_cost_selection, args.solver, args.costs,
                          args.device, args.n_jobs)
    plot_lowshot(results, args.plot or osp.join(args.work_dir, 'lowshot.png'))
    print(lowshot_table(results))
    return results


if __name__ == '__main__':
    main()
