#!/usr/bin/env bash
# Shared by the mmdetection / mmsegmentation slurm_train.sh:
#   slurm_run.sh SCRIPT DEFAULT_GPUS PARTITION JOB_NAME CONFIG PRETRAIN [SCRIPT options]
# runs SCRIPT CONFIG PRETRAIN --launcher slurm [options] as GPUS Slurm tasks (env GPUS, default DEFAULT_GPUS;
# GPUS_PER_NODE default min(GPUS, 8), CPUS_PER_TASK 5, SRUN_ARGS).
set -euo pipefail
SCRIPT=$1
DEFAULT_GPUS=$2
PARTITION=$3
JOB_NAME=$4
CONFIG=$5
PRETRAIN=$6
GPUS=${GPUS:-$DEFAULT_GPUS}
GPUS_PER_NODE=${GPUS_PER_NODE:-$((GPUS < 8 ? GPUS : 8))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
here="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$here/../..":${PYTHONPATH:-} \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$SCRIPT" "$CONFIG" "$PRETRAIN" --launcher slurm "${@:7}"
