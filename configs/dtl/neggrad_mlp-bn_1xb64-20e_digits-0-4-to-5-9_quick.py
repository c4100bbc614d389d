# Quick demo, baseline: fine-tuning plus gradient ascent on the source
# cross-entropy (NegGrad, stopped per mini-batch above a cross-entropy of
# 5), same schedule and test as DTL.
_base_ = ['./dtl_mlp-bn_1xb64-20e_digits-0-4-to-5-9_quick.py']

model = dict(disposal_loss=dict(_delete_=True, type='NegGradLoss', bound=5.0))
