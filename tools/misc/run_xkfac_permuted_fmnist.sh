#!/usr/bin/env bash
# Reproduction on real data, CPU: fine-tuning, EWC, K-FAC, fixed-BN K-FAC,
# XK-FAC and XK-FAC with the batch-norm merging / reparameterisation on 10
# permuted Fashion-MNIST tasks (Debian package
# dataset-fashion-mnist: apt-get install dataset-fashion-mnist), then the
# average-accuracy table.
# Usage: bash tools/misc/run_xkfac_permuted_fmnist.sh [WORK_ROOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-work_dirs/xkfac_permuted_fmnist}
PY=${PYTHON:-python}
RUNS=()
for method in finetune ewc kfac kfac-fixed-bn xkfac xkfac-merge; do
    config=configs/xkfac/${method}_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py
    $PY tools/train.py "$config" --work-dir "$ROOT/$method"
    RUNS+=("$method=$ROOT/$method")
done
$PY tools/analysis_tools/continual_table.py "${RUNS[@]}" --out "$ROOT/table.md"
