#!/usr/bin/env bash
# Usage: tools/dist_train.sh CONFIG GPUS [train.py args]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 tools/dist_train.sh CONFIG GPUS_PER_NODE
# Without CUDA the GPUS processes train on the CPU with the gloo backend.
set -euo pipefail
usage() {
    # a missing or bad GPUS used to reach torchrun, whose error names neither the script nor the argument
    echo "$0: $1" >&2
    echo "usage: $0 CONFIG GPUS [train.py options]  (GPUS: processes per node, a whole number >= 1)" >&2
    exit 2
}
if [[ $# -lt 2 ]]; then
    usage "expected 2 arguments (CONFIG GPUS), got $#"
fi
if ! [[ "${2}" =~ ^[1-9][0-9]*$ ]]; then
    usage "GPUS must be a whole number >= 1, got '${2}'"
fi
CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
PYTHON=${PYTHON:-python}

PYTHONPATH="$(dirname "$0")/..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$GPUS" \
    --master_port="$PORT" \
    "$(dirname "$0")/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
