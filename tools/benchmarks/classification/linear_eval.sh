#!/usr/bin/env bash
# Usage: tools/benchmarks/classification/linear_eval.sh CONFIG PRETRAIN GPUS [linear_eval.py options]
# PRETRAIN: full pre-training checkpoint, backbone-only file, or "none" (random backbone).
# Without CUDA the GPUS processes run on the CPU (gloo). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../dist_run.sh" "$here/linear_eval.py" "${3:?usage: linear_eval.sh CONFIG PRETRAIN GPUS [options]}" "$@"
