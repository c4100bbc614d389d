# XK-FAC (Lee et al., CVPR 2020): K-FAC extended with the inter-example terms
# of train-mode batch norm and unit-wise curvature of the BN gamma/beta;
# running statistics follow every task (bn_stats='track': the merging
# variant is xkfac-merge_*, measured worse here; see the README);
# 10 permuted-fashion-mnist tasks (10k training images each), 1 epoch,
# MLP 784-400-400-10 with BN.
# See configs/xkfac/README.md.
_base_ = [
    '../_base_/models/mlp_bn_mnist.py',
    '../_base_/datasets/permuted_fashion-mnist_bs128.py',
    '../_base_/schedules/continual_sgd.py',
    '../_base_/default_runtime.py',
]

train_cfg = dict(num_tasks=10, max_epochs=1)
# the first 10,000 training images of every task (CPU budget); all test images
train_dataloader = dict(dataset=dict(indices=10000))
custom_hooks = [
    dict(
        type='KFACBNHook',
        curvature='xkfac',
        fisher='true',
        penalty_weight=1.0,
        task_weighting=True,
        adaptive_scaling=True,
        bn_mode='train',
        bn_curvature='unitwise',
        bn_stats='track'),
]
default_hooks = dict(logger=dict(interval=100))
randomness = dict(seed=0, deterministic=True)
