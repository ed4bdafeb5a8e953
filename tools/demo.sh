#!/usr/bin/env bash
# The main job on the built-in demo data, in about 15 minutes on 2 CPU cores (run tools/setup_env.sh first;
# README's first command does both):
#   1. data: Fashion-MNIST (Debian package dataset-fashion-mnist) -> ImageNet-style lists and VOC07-style mosaics in
#      data/fashion_mnist;
#   2. pre-training: relative-location prediction on a ResNet-18, once per seed, saving the initial weights
#      (iter_0.pth) and a checkpoint every few iterations;
#   3. benchmarks: tools/benchmarks/watch.py benchmarks every checkpoint of the three runs (kNN on feature4 at the
#      pre-training's scale, the VOC07-style SVM on feature3-5) and as many randomly initialised ResNet-18s, and
#      draws the curves;
#   4. report: tools/analysis_tools/compare.py tests every pre-trained row against the random-init row and marks
#      the gaps that exceed the spread over seeds.
# Every stage resumes when run again. Environment: DEMO_DIR (default work_dirs/demo), DEMO_SEEDS (default "0 1 2"),
# DEMO_DRY_RUN=1 (print the commands without running them), PYTHON; extra arguments go to tools/train.py.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
py="${PYTHON:-$repo/.venv/bin/python}"
demo_dir="${DEMO_DIR:-work_dirs/demo}"
read -r -a seeds <<< "${DEMO_SEEDS:-0 1 2}"
config=configs/selfsup/relative_loc/relative-loc_resnet18_1xb32-160it_fmnist-demo.py
suite=configs/benchmarks/suites/resnet18_fmnist-demo-watch.yml
final_iter=160  # the config's train_cfg.max_iters: a run whose last checkpoint exists is not started again
start=$SECONDS

# Print a stage's command, then run it (DEMO_DRY_RUN=1: print only).
run() {
    echo "+ $*"
    if [[ "${DEMO_DRY_RUN:-0}" != 1 ]]; then
        "$@"
    fi
}

elapsed() {
    echo "  ($(( SECONDS - start )) s so far)"
}

echo "== 1/4 data: data/fashion_mnist"
run "$py" tools/dataset_converters/prepare_fashion_mnist.py --out data/fashion_mnist --voc07
elapsed

echo "== 2/4 pre-training: $config, seeds ${seeds[*]}"
run_dirs=()
for seed in "${seeds[@]}"; do
    run_dir="$demo_dir/pretrain_seed$seed"
    run_dirs+=("$run_dir")
    if [[ -f "$run_dir/iter_$final_iter.pth" ]]; then
        echo "seed $seed: $run_dir/iter_$final_iter.pth exists"
        continue
    fi
    run "$py" tools/train.py "$config" --work-dir "$run_dir" --resume --cfg-options "randomness.seed=$seed" "$@"
    elapsed
done

echo "== 3/4 benchmarks of every checkpoint and of random-init ResNet-18s (seeds ${seeds[*]})"
run "$py" tools/benchmarks/watch.py "${run_dirs[@]}" --config "$config" --suite "$suite" \
    --benchmarks knn svm --out "$demo_dir/watch" --baseline-seeds "${seeds[@]}"
elapsed

echo "== 4/4 comparison report: every checkpoint against random init"
run "$py" tools/analysis_tools/compare.py "$demo_dir/watch" --out "$demo_dir/report"

echo
echo "Curves:             $demo_dir/watch/curves.png (table: $demo_dir/watch/curves.md)"
echo "Comparison report:  $demo_dir/report/report.md, $demo_dir/report/report.html"
echo "Demo finished in $(( SECONDS - start )) s. CPU time (user, system) of this shell, then of the stages:"
times
