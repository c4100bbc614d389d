#!/usr/bin/env bash
# Disposable transfer learning (GC loss) against plain fine-tuning, NegGrad
# and random source labels, on CPU, SEEDS seeds each:
# * SETTING=fashion-mnist (default): Fashion-MNIST classes 0-4 (source) to
#   classes 5-9 (target), Debian package dataset-fashion-mnist
#   (apt-get install dataset-fashion-mnist), 5 transfer epochs;
# * SETTING=digits: the quick demo, scikit-learn's digits 0-4 to 5-9.
# The source model is pre-trained once (seed 0); every method is then
# trained and tested (piggyback-learning test of the config: 10% of the
# source training set and a downstream set, full fine-tuning and linear
# probe, PL seed = training seed). METHODS may hold dtl-lambda<L>: DTL with
# disposal_weight L (the lambda sweep). The fine-tuning runs also test the
# pre-trained and random references, which depend on the PL seed only; the
# table takes every run's leakage from them. Then one mean ± std table.
# PL_EPOCHS=E tests the same checkpoints with an E-epoch retraining budget
# instead of the config's (results in <work_dir>/pl_epochs<E>).
# Usage: [SETTING=digits] [METHODS="finetune dtl neggrad randlabel"] \
#        [SEEDS="0 1 2"] [THREADS=1] [PL_EPOCHS=E] [TABLE=1] \
#        bash tools/misc/run_dtl.sh [WORK_ROOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
SETTING=${SETTING:-fashion-mnist}
case $SETTING in
    fashion-mnist)
        PRETRAIN_CFG=pretrain_mlp-bn_1xb128-10e_fashion-mnist-0-4.py
        PRETRAIN_EPOCHS=10
        TRANSFER=mlp-bn_1xb128-5e_fashion-mnist-0-4-to-5-9.py
        EPOCHS=5 ;;
    digits)
        PRETRAIN_CFG=pretrain_mlp-bn_1xb64-30e_digits-0-4_quick.py
        PRETRAIN_EPOCHS=30
        TRANSFER=mlp-bn_1xb64-20e_digits-0-4-to-5-9_quick.py
        EPOCHS=20 ;;
    *) echo "SETTING must be fashion-mnist or digits, got $SETTING" >&2
       exit 2 ;;
esac
ROOT=${1:-work_dirs/dtl_$SETTING}
PY=${PYTHON:-python}
METHODS=${METHODS:-finetune dtl neggrad randlabel}
SEEDS=${SEEDS:-0 1 2}
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS
CFG=configs/dtl
PRETRAIN=$ROOT/pretrain
SOURCE=$PRETRAIN/epoch_$PRETRAIN_EPOCHS.pth
if [ ! -f "$SOURCE" ]; then
    $PY tools/train.py $CFG/$PRETRAIN_CFG --work-dir "$PRETRAIN" \
        --threads "$THREADS" > /dev/null
fi
RUNS=()
for seed in $SEEDS; do
    for method in $METHODS; do
        options=()
        name=$method
        if [[ $method == dtl-lambda* ]]; then
            options+=("model.disposal_weight=${method#dtl-lambda}")
            name=dtl
        fi
        config=$CFG/${name}_$TRANSFER
        work_dir=$ROOT/${method}_s${seed}
        if [ ! -f "$work_dir/epoch_$EPOCHS.pth" ]; then
            $PY tools/train.py "$config" --work-dir "$work_dir" \
                --threads "$THREADS" --cfg-options randomness.seed="$seed" \
                model.source_checkpoint="$SOURCE" "${options[@]}" > /dev/null
        fi
        references="[pretrained,random]"
        [ "$method" = finetune ] || references="[]"
        test_dir=$work_dir
        budget=()
        if [ -n "${PL_EPOCHS:-}" ]; then
            test_dir=$work_dir/pl_epochs$PL_EPOCHS
            budget+=("test_cfg.epochs=$PL_EPOCHS")
        fi
        if ! ls "$test_dir"/*/piggyback.json > /dev/null 2>&1; then
            $PY tools/test.py "$config" "$work_dir/epoch_$EPOCHS.pth" \
                --work-dir "$test_dir" --threads "$THREADS" --cfg-options \
                model.source_checkpoint="$SOURCE" "test_cfg.seeds=[$seed]" \
                "test_cfg.references=$references" "${options[@]}" \
                "${budget[@]}" > /dev/null
        fi
        RUNS+=("$method=$test_dir")
    done
done
if [ "${TABLE:-1}" = 1 ]; then
    $PY tools/analysis_tools/piggyback_table.py "${RUNS[@]}" \
        --out "$ROOT/table.md"
fi
