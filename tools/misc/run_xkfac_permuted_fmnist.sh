#!/usr/bin/env bash
# Reproduction on real data, CPU: fine-tuning, EWC, K-FAC, fixed-BN K-FAC,
# XK-FAC and XK-FAC with the batch-norm merging / reparameterisation on 10
# permuted Fashion-MNIST tasks (Debian package dataset-fashion-mnist:
# apt-get install dataset-fashion-mnist), SEEDS seeds each (default 0 1 2),
# seeds interleaved across methods, then the mean ± std table.
# Usage: [METHODS="kfac xkfac"] [SEEDS="0 1 2"] \
#        bash tools/misc/run_xkfac_permuted_fmnist.sh [WORK_ROOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-work_dirs/xkfac_permuted_fmnist}
PY=${PYTHON:-python}
METHODS=${METHODS:-finetune ewc kfac kfac-fixed-bn xkfac xkfac-merge}
SEEDS=${SEEDS:-0 1 2}
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS
RUNS=()
for seed in $SEEDS; do
    for method in $METHODS; do
        config=configs/xkfac/${method}_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py
        work_dir=$ROOT/${method}_s${seed}
        $PY tools/train.py "$config" --work-dir "$work_dir" \
            --threads "$THREADS" --cfg-options randomness.seed="$seed"
        RUNS+=("$method=$work_dir")
    done
done
$PY tools/analysis_tools/continual_table.py "${RUNS[@]}" --out "$ROOT/table.md"
