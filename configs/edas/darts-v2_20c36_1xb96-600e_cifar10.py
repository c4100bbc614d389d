# DARTS (second order, the reference code's `DARTS_V2`) on CIFAR-10 with
# DARTS' evaluation protocol (`train.py`): 20 cells of 36 channels, batch
# 96, 600 epochs, SGD lr 0.025 with cosine annealing, cutout 16, drop-path
# 0.2 ramped linearly from 0, auxiliary classifier with weight 0.4. The
# paper reports 2.76 +- 0.09% test error with 3.3M parameters. The EDAS
# CIFAR-10 config inherits from this one.
_base_ = [
    '../_base_/models/darts_20c36_cifar10.py',
    '../_base_/datasets/cifar10_darts_bs96.py',
    '../_base_/schedules/darts_sgd_600e.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(genotype='DARTS_V2'))
