#!/usr/bin/env bash
# Reproduction on real data, CPU: ResCL at its default lambda against
# fine-tuning, LwF, EWC and mean-IMM on 2 permuted Fashion-MNIST tasks and
# on split Fashion-MNIST (5 tasks of 2 classes, a head per task), Debian
# package dataset-fashion-mnist (apt-get install dataset-fashion-mnist),
# SEEDS seeds each (default 0 1 2), seeds interleaved across methods, then
# one mean ± std table per scenario.
# Usage: [SCENARIOS="2t-6e_permuted-fashion-mnist"] [METHODS="rescl lwf"] \
#        [SEEDS="0 1 2"] [THREADS=1] \
#        bash tools/misc/run_rescl_fashion_mnist.sh [WORK_ROOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-work_dirs/rescl_fashion_mnist}
PY=${PYTHON:-python}
SCENARIOS=${SCENARIOS:-2t-6e_permuted-fashion-mnist 5t-6e_split-fashion-mnist}
METHODS=${METHODS:-finetune lwf ewc mean-imm rescl}
SEEDS=${SEEDS:-0 1 2}
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS
for scenario in $SCENARIOS; do
    RUNS=()
    for seed in $SEEDS; do
        for method in $METHODS; do
            config=configs/rescl/${method}_mlp-bn_1xb128-${scenario}.py
            work_dir=$ROOT/${scenario}/${method}_s${seed}
            if [ ! -f "$work_dir/continual_metrics.json" ]; then
                $PY tools/train.py "$config" --work-dir "$work_dir" \
                    --threads "$THREADS" \
                    --cfg-options randomness.seed="$seed" > /dev/null
            fi
            RUNS+=("$method=$work_dir")
        done
    done
    $PY tools/analysis_tools/continual_table.py "${RUNS[@]}" \
        --out "$ROOT/${scenario}/table.md"
done
