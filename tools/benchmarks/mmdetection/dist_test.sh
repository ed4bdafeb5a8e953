#!/usr/bin/env bash
# Usage: tools/benchmarks/mmdetection/dist_test.sh CONFIG CHECKPOINT [GPUS=8] [test.py options]
# CHECKPOINT: a model written by train.py / dist_train.sh (WORK_DIR/iter_N.pth or epoch_N.pth).
# Multi-node and CPU: see ../dist_run.sh.
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../dist_run.sh" "$here/test.py" 8 "$@"
