#!/usr/bin/env bash
# Usage: tools/benchmarks/mmdetection/dist_test.sh CONFIG CHECKPOINT [GPUS=8] [test.py options]
# CHECKPOINT: a model written by train.py / dist_train.sh (WORK_DIR/iter_N.pth or epoch_N.pth).
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 ... on each node (GPUS per node).
# Without CUDA the GPUS processes evaluate on the CPU with the gloo backend.
set -euo pipefail
CONFIG=$1
CHECKPOINT=$2
if [[ $# -ge 3 && $3 != -* ]]; then GPUS=$3; shift 3; else GPUS=8; shift 2; fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}
here="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$here/../../..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$here/test.py" "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "$@"
