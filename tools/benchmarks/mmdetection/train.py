"""Train a detection benchmark with mmdet from an mmssl pre-training checkpoint.

    python tools/benchmarks/mmdetection/train.py CONFIG PRETRAIN [--work-dir DIR] [--cfg-options ...]

PRETRAIN is a full pre-training checkpoint (keys ``backbone.*``, as tools/train.py writes it); its backbone
weights go into every module the config's ``mmssl.PretrainedWeightsCheckHook`` lists, and training stops before
the first iteration unless they really arrived. The final validation metrics are printed and written as a
result record (``mmssl.apis.results``, benchmark ``detection``) to ``WORK_DIR/result_detection.json``;
``--pretrain-config CFG`` records the pre-training config. Several processes: ``dist_train.sh``; Slurm:
``slurm_train.sh``.
"""
from mmssl.apis.dense_benchmarks import main_train


def main(argv=None):
    return main_train(argv, 'mmdet')


if __name__ == '__main__':
    main()
