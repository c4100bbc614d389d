# Ablation "+ mask focus": face and mask maps partition every location;
# the mask map is supervised with the synthetic mask, no background map.
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

model = dict(neck=dict(focus=('mask', )))
