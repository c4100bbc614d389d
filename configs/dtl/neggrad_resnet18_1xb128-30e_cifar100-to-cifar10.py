# Baseline: fine-tuning plus gradient ascent on the CIFAR-100 loss
# (NegGrad, stopped per mini-batch above a cross-entropy of 5), same
# schedule and test as DTL.
_base_ = ['./dtl_resnet18_1xb128-30e_cifar100-to-cifar10.py']

model = dict(disposal_loss=dict(_delete_=True, type='NegGradLoss', bound=5.0))
