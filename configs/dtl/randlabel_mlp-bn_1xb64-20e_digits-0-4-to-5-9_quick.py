# Quick demo, baseline: fine-tuning plus cross-entropy of the source
# mini-batches against random wrong labels, same schedule and test as DTL.
_base_ = ['./dtl_mlp-bn_1xb64-20e_digits-0-4-to-5-9_quick.py']

model = dict(disposal_loss=dict(_delete_=True, type='RandomLabelLoss'))
