# Source model for the CIFAR-100 -> CIFAR-10 configs: ResNet_CIFAR-18 on
# CIFAR-100 with the 300-epoch CIFAR recipe (SGD lr 0.1, steps at 150 and
# 225). The DTL configs load
# work_dirs/pretrain_resnet18_1xb128-300e_cifar100/epoch_300.pth.
_base_ = [
    '../_base_/models/resnet18_cifar100.py',
    '../_base_/datasets/cifar100_bs128.py',
    '../_base_/schedules/sgd_300e_cifar.py',
    '../_base_/default_runtime.py',
]

train_cfg = dict(val_interval=10)
