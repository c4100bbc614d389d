#!/usr/bin/env bash
# EDAS (single-edge) against DARTS (first order) on scikit-learn's digits,
# on CPU, SEEDS seeds each: the quick search configs, then
# * the one-shot and the derived network's test accuracy with the search
#   weights (tools/test.py, model.eval_network=one_shot / derived),
# * the derived network trained from scratch with the genotype
#   (configs/edas/edas-derived_8c16_1xb64-20e_digits_quick.py, same seed),
# and DARTS_V2 (published) trained the same way as a reference; then one
# mean ± std table (tools/analysis_tools/search_table.py).
# Usage: [MODES="edas darts"] [SEEDS="0 1 2"] [THREADS=1] [RETRAIN=1] \
#        bash tools/misc/run_edas_digits.sh [WORK_ROOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-work_dirs/edas_digits}
PY=${PYTHON:-python}
MODES=${MODES:-edas darts}
SEEDS=${SEEDS:-0 1 2}
THREADS=${THREADS:-1}
RETRAIN=${RETRAIN:-1}
export OMP_NUM_THREADS=$THREADS
CFG=configs/edas
DERIVED=$CFG/edas-derived_8c16_1xb64-20e_digits_quick.py

test_metrics() {  # CONFIG CHECKPOINT OUT_JSON [cfg options...]
    local config=$1 checkpoint=$2 out=$3
    shift 3
    $PY tools/test.py "$config" "$checkpoint" --threads "$THREADS" \
        --work-dir "$(dirname "$out")/test" --out "$out" \
        --out-item metrics --cfg-options "$@" > /dev/null
}

retrain() {  # WORK_DIR GENOTYPE SEED
    local work_dir=$1 genotype=$2 seed=$3
    if [ ! -f "$work_dir/retrain.json" ]; then
        $PY tools/train.py $DERIVED --work-dir "$work_dir/retrain" \
            --threads "$THREADS" --cfg-options randomness.seed="$seed" \
            model.backbone.genotype="$genotype" > /dev/null
        test_metrics $DERIVED "$work_dir/retrain/epoch_20.pth" \
            "$work_dir/retrain.json" model.backbone.genotype="$genotype"
    fi
}

RUNS=()
for seed in $SEEDS; do
    for mode in $MODES; do
        config=$CFG/${mode}_search-5c8_1xb64-10e_digits_quick.py
        work_dir=$ROOT/${mode}_s${seed}
        if [ ! -f "$work_dir/epoch_10.pth" ]; then
            start=$SECONDS
            $PY tools/train.py "$config" --work-dir "$work_dir" \
                --threads "$THREADS" --cfg-options randomness.seed="$seed" \
                model.seed="$seed" > /dev/null
            echo $((SECONDS - start)) > "$work_dir/search_seconds"
        fi
        for network in one_shot derived; do
            [ -f "$work_dir/$network.json" ] || test_metrics "$config" \
                "$work_dir/epoch_10.pth" "$work_dir/$network.json" \
                model.eval_network=$network
        done
        [ "$RETRAIN" = 1 ] && retrain "$work_dir" "$work_dir/genotype.json" \
            "$seed"
        RUNS+=("$mode=$work_dir")
    done
    if [ "$RETRAIN" = 1 ]; then
        work_dir=$ROOT/darts-v2_s${seed}
        [ -f "$work_dir/genotype.json" ] || \
            $PY tools/analysis_tools/derive_genotype.py --genotype DARTS_V2 \
                --out-dir "$work_dir" --no-draw > /dev/null
        retrain "$work_dir" DARTS_V2 "$seed"
        RUNS+=("darts-v2=$work_dir")
    fi
done
$PY tools/analysis_tools/search_table.py "${RUNS[@]}" --out "$ROOT/table.md"
