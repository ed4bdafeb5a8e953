#!/usr/bin/env bash
# Usage: [GPUS=8 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] \
#     tools/benchmarks/mmdetection/slurm_train.sh PARTITION JOB_NAME CONFIG PRETRAIN [train.py options]
# PRETRAIN: full mmssl pre-training checkpoint (backbone.* keys). See ../slurm_run.sh.
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../slurm_run.sh" "$here/train.py" 8 "$@"
