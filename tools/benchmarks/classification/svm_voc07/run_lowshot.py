"""VOC07 low-shot SVMs over extracted features: ``run_lowshot.py FEATURE_DIR --work-dir DIR``.

For k in 1, 2, 4, ..., 96 and 5 seeded samples: each class trains on k positives and 19k negatives of trainval
(difficult never drawn) and is tested on the whole test set; mean / min / max / std of mAP over samples per k.
The cost per k is chosen by CV inside the low-shot training sets (never on test);
``--legacy-cost-selection`` picks it by mean test mAP, as the published tables did. Only the chosen cost's models
are tested unless ``--test-per-cost`` (the mean test mAP of every cost, for comparison). ``--samples FILE`` reads
training sets from a file (``--save-samples FILE`` writes the drawn ones in that format). Resumes finished k;
results there of other features, samples or settings are refused (``--recompute`` deletes them).
Writes ``WORK_DIR/<layer>/lowshot_svm.json``, the record ``WORK_DIR/result_lowshot_svm_voc07.json`` and a plot.
"""
import argparse
import os.path as osp

from mmssl.benchmarks.lowshot import VOC07LowShotSVM, add_lowshot_arguments, lowshot_table, plot_lowshot
from mmssl.constants import LOWSHOT_SHOTS
from mmssl.utils.cli_errors import run_cli
from mmssl.utils.work_dir_lock import work_dir_lock


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('feature_dir', help='folder written by extract.py')
    parser.add_argument('--work-dir', required=True, help='outputs (per-k JSON, results, record, plot)')
    args = vars(add_lowshot_arguments(parser).parse_args(argv))
    feature_dir, work_dir, plot = args.pop('feature_dir'), args.pop('work_dir'), args.pop('plot')
    args['shots'] = args['shots'] or LOWSHOT_SHOTS
    with work_dir_lock(work_dir):
        results = VOC07LowShotSVM().run_on_features(feature_dir, work_dir, **args)
        plot_lowshot(results, plot or osp.join(work_dir, 'lowshot.png'))
    print(lowshot_table(results))
    return results


if __name__ == '__main__':
    run_cli(main)
