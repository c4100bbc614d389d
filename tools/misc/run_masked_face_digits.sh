#!/usr/bin/env bash
# The masked-face quick demo on the digits face set, on CPU, SEEDS seeds
# for each VARIANT (full: configs/masked_face/mfsa_*_quick.py; noatt: the
# same without the attention neck, MaskedFaceRecognizer(neck=None)):
# training with validation on the held-out pairs, plain and masked, then
# tools/analysis_tools/analyze_attention.py on the first and the last
# checkpoint (full only); one mean ± std table at the end.
# Usage: [SEEDS="0 1 2"] [VARIANTS="full noatt"] [THREADS=1] \
#        bash tools/misc/run_masked_face_digits.sh [WORK_ROOT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=${1:-work_dirs/masked_face_digits}
PY=${PYTHON:-python}
SEEDS=${SEEDS:-0 1 2}
VARIANTS=${VARIANTS:-full noatt}
THREADS=${THREADS:-1}
export OMP_NUM_THREADS=$THREADS
CFG=configs/masked_face/mfsa_iresnet18-w8_1xb64-10e_digits-faces_quick.py

for seed in $SEEDS; do
    for variant in $VARIANTS; do
        work_dir=$ROOT/${variant}_s${seed}
        options=(randomness.seed="$seed")
        [ "$variant" = noatt ] && options+=(model.neck=None)
        if [ ! -f "$work_dir/epoch_10.pth" ]; then
            start=$SECONDS
            $PY tools/train.py $CFG --work-dir "$work_dir" \
                --threads "$THREADS" --cfg-options "${options[@]}" \
                > "$work_dir.log" 2>&1
            echo "$((SECONDS - start))" > "$work_dir.seconds"
        fi
        if [ "$variant" = full ] && \
                [ ! -f "$work_dir/attention/localisation.json" ]; then
            $PY tools/analysis_tools/analyze_attention.py $CFG \
                "$work_dir/epoch_1.pth" "$work_dir/epoch_10.pth" \
                --out-dir "$work_dir/attention" > /dev/null
        fi
    done
done

$PY - "$ROOT" $VARIANTS <<'PYEOF'
import glob, json, os.path as osp, sys
import numpy as np
root, variants = sys.argv[1], sys.argv[2:]
def last_val(work_dir):
    logs = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                     'scalars.json')))
    rows = [json.loads(l) for l in open(logs[-1])]
    return [r for r in rows if 'verification/heldout/accuracy' in r][-1]
def fmt(values):
    return f'{np.mean(values):.2f} ± {np.std(values):.2f}'
for variant in variants:
    runs = sorted(glob.glob(osp.join(root, f'{variant}_s*[0-9]')))
    vals = [last_val(r) for r in runs]
    secs = [float(open(r + '.seconds').read()) for r in runs
            if osp.isfile(r + '.seconds')]
    print(f'{variant} ({len(runs)} seeds): accuracy plain '
          + fmt([v['verification/heldout/accuracy'] for v in vals])
          + ', masked '
          + fmt([v['verification/heldout_masked/accuracy'] for v in vals])
          + (f', {fmt(secs)} s per run' if secs else ''))
    reports = [osp.join(r, 'attention', 'localisation.json') for r in runs]
    reports = [json.load(open(p)) for p in reports if osp.isfile(p)]
    if reports:
        for key in ('mask_iou', 'iou', 'mass_share'):
            first = [100 * r['checkpoints'][0]['stages']['2'][key]
                     for r in reports]
            last = [100 * r['checkpoints'][-1]['stages']['2'][key]
                    for r in reports]
            print(f'  {key} (%): epoch 1 {fmt(first)} -> epoch 10 '
                  f'{fmt(last)}')
PYEOF
