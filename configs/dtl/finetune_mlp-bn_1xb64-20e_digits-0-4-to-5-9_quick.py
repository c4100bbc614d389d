# Quick demo, baseline: plain fine-tuning (no disposal loss) from the
# digits 0-4 source model to digits 5-9, same schedule and test as DTL.
_base_ = ['./dtl_mlp-bn_1xb64-20e_digits-0-4-to-5-9_quick.py']

model = dict(disposal_loss=None)
