#!/usr/bin/env bash
# The main job on the built-in demo data (run tools/setup_env.sh first; README's first command does both):
# Fashion-MNIST → ImageNet-style folder → relative-location pre-training of a ResNet-18 on the CPU.
# Environment: DEMO_DIR (default work_dirs/demo), DATA_DIR (default data/fashion_mnist), extra args go to train.py.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
py="${PYTHON:-$repo/.venv/bin/python}"
data_dir="${DATA_DIR:-data/fashion_mnist}"
demo_dir="${DEMO_DIR:-work_dirs/demo}"
config=configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py

"$py" tools/dataset_converters/prepare_fashion_mnist.py --out "$data_dir"
"$py" tools/train.py "$config" --work-dir "$demo_dir/relative_loc" \
    --cfg-options "train_dataloader.dataset.data_root=$data_dir" "val_dataloader.dataset.data_root=$data_dir" "$@"
checkpoint=$(cat "$demo_dir/relative_loc/last_checkpoint")
echo "Pre-trained relative-location checkpoint: $checkpoint"
echo "Backbone weights only: $py tools/model_converters/extract_backbone_weights.py $checkpoint OUT.pth"
