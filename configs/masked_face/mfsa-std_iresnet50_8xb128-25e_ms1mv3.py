# Ablation "standard attention only": one sigmoid spatial attention map
# (same descriptor and position), no focused maps, no attention losses.
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

model = dict(neck=dict(focus=()))
