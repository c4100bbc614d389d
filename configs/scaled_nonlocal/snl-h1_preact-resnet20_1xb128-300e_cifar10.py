# Scaled Non-Local, 1 head; block in stage 1 (16x16, 32 channels), before its
# last unit.
# Recipe: SGD 0.1, momentum 0.9, wd 5e-4, batch 128, 300 epochs, x0.1 at
# 150/225 (official code). See configs/scaled_nonlocal/README.md.
_base_ = [
    '../_base_/models/preact_resnet20_cifar.py',
    '../_base_/datasets/cifar10_bs128.py',
    '../_base_/schedules/sgd_300e_cifar.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ScaledNonLocal2d', num_heads=1),
            stage=1,
            position=-1)
    ]), )

# report the best and the final epoch (the official code reports the best)
default_hooks = dict(
    checkpoint=dict(save_best='accuracy/top1', rule='greater'))
