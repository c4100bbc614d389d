# DARTS (first order, the reference code's `DARTS_V1`) on CIFAR-10 with
# DARTS' evaluation protocol: 20 cells of 36 channels, batch 96, 600
# epochs, cutout 16, drop-path 0.2 ramped linearly, auxiliary weight 0.4
# (see darts-v2_20c36_1xb96-600e_cifar10.py). The paper reports 3.00 +-
# 0.14% test error.
_base_ = ['./darts-v2_20c36_1xb96-600e_cifar10.py']

model = dict(backbone=dict(genotype='DARTS_V1'))
