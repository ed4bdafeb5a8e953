#!/usr/bin/env bash
# The main job on the built-in demo data (run tools/setup_env.sh first; README's first command does both):
# Fashion-MNIST (Debian package dataset-fashion-mnist) → ImageNet-style lists and VOC07-style mosaics in
# data/fashion_mnist → relative-location pre-training of a ResNet-18 on the CPU, once per seed → VOC07 SVM, low-shot
# SVM and multi-head linear benchmarks of those backbones and of as many randomly initialised ones → the model-zoo
# tables, each cell the mean ± sample std over the seeds. Every stage resumes when run again.
# Environment: DEMO_DIR (default work_dirs/demo), DEMO_SEEDS (default "0 1 2"); extra args go to train.py.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
py="${PYTHON:-$repo/.venv/bin/python}"
demo_dir="${DEMO_DIR:-work_dirs/demo}"
config=configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-300it_fmnist-demo.py
start=$SECONDS

"$py" tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist --voc07
read -r -a seeds <<< "${DEMO_SEEDS:-0 1 2}"
checkpoints=()
for seed in "${seeds[@]}"; do
    run_dir="$demo_dir/relative_loc_seed$seed"
    if [[ ! -f "$run_dir/iter_300.pth" ]]; then
        "$py" tools/train.py "$config" --work-dir "$run_dir" --resume --cfg-options "randomness.seed=$seed" "$@"
    fi
    checkpoints+=("$run_dir/iter_300.pth")
    echo "Pre-trained relative-location checkpoint (seed $seed): $run_dir/iter_300.pth ($(( SECONDS - start )) s so far)"
done
"$py" tools/benchmarks/run_suite.py "$config" "${checkpoints[@]}" \
    --suite configs/benchmarks/suites/resnet18_fmnist-demo.yml --benchmarks svm lowshot linear \
    --baseline --baseline-seeds "${seeds[@]}" --work-dir "$demo_dir/benchmarks"
echo "Demo finished in $(( SECONDS - start )) s"
