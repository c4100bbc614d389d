# Reproduction, baseline: fine-tuning plus cross-entropy of the source
# mini-batches against random wrong labels, same schedule and test as DTL.
_base_ = ['./dtl_mlp-bn_1xb128-5e_fashion-mnist-0-4-to-5-9.py']

model = dict(disposal_loss=dict(_delete_=True, type='RandomLabelLoss'))
