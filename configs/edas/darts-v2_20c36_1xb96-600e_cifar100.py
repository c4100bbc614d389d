# DARTS (second order, `DARTS_V2`, searched on CIFAR-10) trained on
# CIFAR-100 with DARTS' CIFAR evaluation protocol: 20 cells of 36
# channels, batch 96, 600 epochs, cutout 16, drop-path 0.2 ramped
# linearly, auxiliary weight 0.4; CIFAR-10's normalisation, as DARTS' code
# (see configs/_base_/datasets/cifar100_darts_bs96.py). The EDAS CIFAR-100
# config inherits from this one.
_base_ = [
    '../_base_/models/darts_20c36_cifar10.py',
    '../_base_/datasets/cifar100_darts_bs96.py',
    '../_base_/schedules/darts_sgd_600e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(genotype='DARTS_V2'),
    head=dict(num_classes=100, topk=(1, 5)))
