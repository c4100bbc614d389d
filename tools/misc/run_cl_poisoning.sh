#!/usr/bin/env bash
# The poisoning attack on continual learning, reproduced on CPU: for each
# regulariser in REGS and seed in SEEDS,
#   1. train tasks 0 and 1 of configs/cl_poisoning/<reg>_*_<BENCH>.py
#      (train_cfg.num_tasks=2; the model has its 3 heads);
#   2. tools/attack/poison_continual.py on that checkpoint: poison task 2
#      against task TARGET (the tool's defaults, or ATTACK_ARGS, e.g.
#      "--eps 0.1" or "--mode gradient_matching --steps 40");
#   3. train task 2 from the same checkpoint, clean and poisoned (the
#      poisoned run: one TaskDataOverrideHook entry naming the written
#      dataset);
# then tools/attack/poison_report.py over everything (JSON, PNG, table).
# Usage: [REGS="ewc si"] [SEEDS="0 1 2"] [BENCH=permuted-fashion-mnist] \
#        [ATTACK_ARGS="..."] [THREADS=2] \
#        [BASE_OPTIONS="train_cfg.num_tasks=2"] \
#        bash tools/misc/run_cl_poisoning.sh [ROOT]
# (BASE_OPTIONS: the --cfg-options of step 1, e.g. with per-task epochs
# "train_cfg.num_tasks=2 train_cfg.max_epochs=[5,10]")
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-work_dirs/cl_poisoning}
PY=${PYTHON:-python}
REGS=${REGS:-ewc si}
SEEDS=${SEEDS:-0 1 2}
BENCH=${BENCH:-permuted-fashion-mnist}
TARGET=${TARGET:-0}
THREADS=${THREADS:-2}
ATTACK_ARGS=${ATTACK_ARGS:-}
BASE_OPTIONS=${BASE_OPTIONS:-train_cfg.num_tasks=2}
read -r -a BASE_OPTS <<< "$BASE_OPTIONS"  # split on spaces, no globbing
export OMP_NUM_THREADS=$THREADS
mkdir -p "$ROOT"

PAIRS=()
for seed in $SEEDS; do
    for reg in $REGS; do
        cfg=$(ls configs/cl_poisoning/${reg}_mlp-bn_*_${BENCH}.py)
        work=$ROOT/${reg}_s${seed}
        mkdir -p "$work"
        if [ ! -f "$work/base/continual_metrics.json" ]; then
            $PY tools/train.py "$cfg" --work-dir "$work/base" \
                --threads "$THREADS" --cfg-options randomness.seed="$seed" \
                "${BASE_OPTS[@]}" > "$work/base.log" 2>&1
        fi
        ckpt=$(ls "$work"/base/epoch_*.pth | sort -V | tail -1)
        if [ ! -f "$work/poison/manifest.json" ]; then
            start=$SECONDS
            # shellcheck disable=SC2086
            $PY tools/attack/poison_continual.py "$cfg" "$ckpt" \
                --target-task "$TARGET" --out-dir "$work/poison" \
                --seed "$seed" --no-progress $ATTACK_ARGS > "$work/poison.log" 2>&1
            echo "$((SECONDS - start))" > "$work/poison.seconds"
        fi
        cat > "$work/poisoned_cfg.py" <<EOC
_base_ = ['$(pwd)/$cfg']
custom_hooks = _base_.custom_hooks + [
    dict(type='TaskDataOverrideHook',
         datasets={2: dict(type='PoisonedTaskDataset',
                           data_root='$(pwd)/$work/poison')})
]
EOC
        for run in clean poisoned; do
            if [ ! -f "$work/$run/continual_metrics.json" ]; then
                config=$cfg
                [ $run = poisoned ] && config=$work/poisoned_cfg.py
                $PY tools/train.py "$config" --work-dir "$work/$run" \
                    --threads "$THREADS" --resume "$ckpt" \
                    --cfg-options randomness.seed="$seed" > "$work/$run.log" 2>&1
            fi
        done
        PAIRS+=(--pair "$reg" "$work/clean" "$work/poisoned")
    done
done
$PY tools/attack/poison_report.py --target-task "$TARGET" "${PAIRS[@]}" \
    --out-json "$ROOT/report.json" --out-png "$ROOT/report.png"
