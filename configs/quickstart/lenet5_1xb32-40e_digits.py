# Quick start: mmpretrain's LeNet-5 on scikit-learn's bundled digits.
# >= 95% test accuracy in well under a minute on 2 CPU cores; measured
# numbers are in configs/quickstart/README.md.
_base_ = [
    '../_base_/models/lenet5.py',
    '../_base_/datasets/digits_bs32.py',
    '../_base_/schedules/sgd_40e.py',
    '../_base_/default_runtime.py',
]

default_hooks = dict(logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
