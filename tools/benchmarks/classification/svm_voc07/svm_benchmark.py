"""Checkpoint to VOC07 SVM and low-shot tables in one command.

    python tools/benchmarks/classification/svm_voc07/svm_benchmark.py CONFIG PRETRAIN --work-dir DIR

Extracts feature1-5 with CONFIG (``PRETRAIN``: full or backbone-only checkpoint, or ``none``) into
``DIR/features``, runs the VOC07 SVM (``DIR/svm``, skip with ``--no-svm``) and the low-shot SVMs
(``DIR/lowshot``, skip with ``--no-lowshot``) on every layer, and prints both tables. Each stage resumes:
finished features, classes and k are not recomputed. For multi-GPU extraction run
``dist_extract.sh ... --out DIR/features`` first; the features found there are used.
"""
import argparse
import os.path as osp

from mmengine.config import Config, DictAction

from mmssl.apis.feature_extraction import extract_svm_features
from mmssl.apis.svm_benchmark import add_solver_arguments, lowshot_table, plot_lowshot, run_lowshot, run_svm, svm_table
from mmssl.evaluation.svm.features import META_FILE
from mmssl.evaluation.svm.lowshot import DEFAULT_SHOTS
from mmssl.utils import register_all_modules


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='SVM benchmark config (backbone, pooling, VOC07 data)')
    parser.add_argument('pretrain', help='checkpoint, or "none" for a randomly initialised backbone')
    parser.add_argument('--work-dir', required=True)
    parser.add_argument('--pretrain-config', help='config that produced PRETRAIN (recorded with the results)')
    parser.add_argument('--no-svm', action='store_true', help='skip the full VOC07 SVM protocol')
    parser.add_argument('--no-lowshot', action='store_true', help='skip the low-shot SVMs')
    parser.add_argument('--seed', type=int, default=0, help='seed of the low-shot training sets')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override settings of CONFIG')
    add_solver_arguments(parser)
    parser.add_argument('--shots', type=int, nargs='+', help="low-shot k values (default: the config's)")
    args = parser.parse_args(argv)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options or {})
    feature_dir = osp.join(args.work_dir, 'features')
    if not osp.isfile(osp.join(feature_dir, META_FILE)):
        extract_svm_features(cfg, None if args.pretrain.lower() == 'none' else args.pretrain, feature_dir,
                             args.layers, config_path=args.config, pretrain_config=args.pretrain_config)
    solver = (args.solver, args.costs, args.device, args.n_jobs)
    tables = []
    if not args.no_svm:
        tables.append(svm_table(run_svm(feature_dir, osp.join(args.work_dir, 'svm'), args.layers, *solver)))
    if not args.no_lowshot:
        results = run_lowshot(feature_dir, osp.join(args.work_dir, 'lowshot'), args.layers,
                              args.shots or cfg.get('lowshot_shots', DEFAULT_SHOTS), seed=args.seed,
                              solver=args.solver, costs=args.costs, device=args.device, n_jobs=args.n_jobs)
        plot_lowshot(results, osp.join(args.work_dir, 'lowshot', 'lowshot.png'))
        tables.append(lowshot_table(results))
    print('\n\n'.join(tables))


if __name__ == '__main__':
    main()
