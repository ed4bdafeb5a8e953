#!/usr/bin/env bash
# Shared by the mmdetection / mmsegmentation dist_train.sh and dist_test.sh:
#   dist_run.sh SCRIPT DEFAULT_GPUS CONFIG CHECKPOINT [GPUS] [SCRIPT options]
# runs SCRIPT CONFIG CHECKPOINT --launcher pytorch [options] in GPUS processes per node (torchrun).
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 on each node. Without CUDA the processes run on
# the CPU with the gloo backend (and plain BN).
set -euo pipefail
SCRIPT=$1
DEFAULT_GPUS=$2
CONFIG=$3
CHECKPOINT=$4
if [[ $# -ge 5 && $5 != -* ]]; then GPUS=$5; shift 5; else GPUS=$DEFAULT_GPUS; shift 4; fi
PYTHON=${PYTHON:-python}
here="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$here/../..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$GPUS" \
    --master_port="${PORT:-29500}" \
    "$SCRIPT" "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "$@"
