# Reproduction, baseline: plain fine-tuning (no disposal loss) from the
# Fashion-MNIST 0-4 source model to classes 5-9, same schedule and test as
# DTL.
_base_ = ['./dtl_mlp-bn_1xb128-5e_fashion-mnist-0-4-to-5-9.py']

model = dict(disposal_loss=None)
