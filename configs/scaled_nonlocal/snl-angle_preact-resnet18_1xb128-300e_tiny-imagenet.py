# Scaled Non-Local, direction-only similarity; block in stage 1 (28x28, 128
# channels), before its last unit.
# Recipe: SGD 0.1, momentum 0.9, wd 5e-4, batch 128, 300 epochs, x0.1 at
# 150/225 (official code). See configs/scaled_nonlocal/README.md.
_base_ = [
    '../_base_/models/preact_resnet18_tiny-imagenet.py',
    '../_base_/datasets/tiny_imagenet_bs128.py',
    '../_base_/schedules/sgd_300e_cifar.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ScaledNonLocal2d', similarity='angle'),
            stage=1,
            position=-1)
    ]), )

# report the best and the final epoch (the official code reports the best)
default_hooks = dict(
    checkpoint=dict(save_best='accuracy/top1', rule='greater'))
