# Baseline: plain fine-tuning, CIFAR-100 -> CIFAR-10, same schedule and
# test as DTL.
_base_ = ['./dtl_resnet18_1xb128-30e_cifar100-to-cifar10.py']

model = dict(disposal_loss=None)
