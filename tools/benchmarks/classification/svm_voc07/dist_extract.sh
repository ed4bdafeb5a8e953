#!/usr/bin/env bash
# Usage: tools/benchmarks/classification/svm_voc07/dist_extract.sh CONFIG PRETRAIN GPUS --out DIR [extract.py options]
# PRETRAIN: full pre-training checkpoint, backbone-only file, or "none" (random backbone).
# Without CUDA the GPUS processes run on the CPU (gloo). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT.
set -euo pipefail
CONFIG=$1
PRETRAIN=$2
GPUS=$3
PYTHON=${PYTHON:-python}
here="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="$here/../../../..":${PYTHONPATH:-} \
"$PYTHON" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --nproc_per_node="$GPUS" \
    --master_port="${PORT:-29500}" \
    "$here/extract.py" "$CONFIG" "$PRETRAIN" --launcher pytorch "${@:4}"
