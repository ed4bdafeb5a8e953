#!/usr/bin/env bash
# Usage: tools/dist_test.sh CONFIG CHECKPOINT GPUS [test.py args]
# Multi-node: NNODES=2 NODE_RANK=0|1 MASTER_ADDR=host PORT=29500 tools/dist_test.sh CONFIG CHECKPOINT GPUS_PER_NODE
# Without CUDA the GPUS processes evaluate on the CPU with the gloo backend.
set -euo pipefail
usage() {
    # a missing or bad GPUS used to reach torchrun, whose error names neither the script nor the argument
    echo "$0: $1" >&2
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py options]  (GPUS: processes per node, a whole number >= 1)" >&2
    exit 2
}
if [[ $# -lt 3 ]]; then
    usage "expected 3 arguments (CONFIG CHECKPOINT GPUS), got $#"
fi
if ! [[ "${3}" =~ ^[1-9][0-9]*$ ]]; then
    usage "GPUS must be a whole number >= 1, got '${3}'"
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
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
    "$(dirname "$0")/test.py" \
    "$CONFIG" "$CHECKPOINT" \
    --launcher pytorch "${@:4}"
