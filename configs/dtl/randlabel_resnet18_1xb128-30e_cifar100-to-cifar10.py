# Baseline: fine-tuning plus cross-entropy of CIFAR-100 mini-batches
# against random wrong labels, same schedule and test as DTL.
_base_ = ['./dtl_resnet18_1xb128-30e_cifar100-to-cifar10.py']

model = dict(disposal_loss=dict(_delete_=True, type='RandomLabelLoss'))
