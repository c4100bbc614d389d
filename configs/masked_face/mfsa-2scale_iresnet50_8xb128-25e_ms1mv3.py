# Variant "two scales": the attention refines the outputs of stages 2 and 3
# (28x28 and 14x14); the losses are averaged over the two.
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

model = dict(neck=dict(stages=(1, 2)))
