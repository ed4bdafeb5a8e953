#!/usr/bin/env bash
# Usage: tools/benchmarks/classification/svm_voc07/dist_extract.sh CONFIG PRETRAIN GPUS --out DIR [extract.py options]
# PRETRAIN: full pre-training checkpoint, backbone-only file, or "none" (random backbone).
# Without CUDA the GPUS processes run on the CPU (gloo). Multi-node: NNODES, NODE_RANK, MASTER_ADDR, PORT.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../../dist_run.sh" "$here/extract.py" "${3:?usage: dist_extract.sh CONFIG PRETRAIN GPUS --out DIR}" "$@"
