#!/usr/bin/env bash
# Usage: tools/benchmarks/mmsegmentation/dist_train.sh CONFIG PRETRAIN [GPUS=4] [train.py options]
# PRETRAIN: full mmssl pre-training checkpoint (backbone.* keys). Multi-node and CPU: see ../dist_run.sh.
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../dist_run.sh" "$here/train.py" 4 "$@"
