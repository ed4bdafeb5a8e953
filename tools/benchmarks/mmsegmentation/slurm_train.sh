#!/usr/bin/env bash
# Usage: [GPUS=4 GPUS_PER_NODE=8 CPUS_PER_TASK=5 SRUN_ARGS=...] \
#     tools/benchmarks/mmsegmentation/slurm_train.sh PARTITION JOB_NAME CONFIG PRETRAIN [train.py options]
# PRETRAIN: full mmssl pre-training checkpoint (backbone.* keys).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
PRETRAIN=$4
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-$((GPUS < 8 ? GPUS : 8))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
here="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$here/../../..":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$here/train.py" "$CONFIG" "$PRETRAIN" --launcher slurm "${@:5}"
