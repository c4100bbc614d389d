# XK-FAC (Lee et al., CVPR 2020): K-FAC extended with the inter-example terms
# of train-mode batch norm and unit-wise curvature of the BN gamma/beta
# (KFACBNHook of ../_base_/continual/kfac_bn_hook.py); running statistics
# follow every task (bn_stats='track': the merging variant is
# xkfac-merge_*, see the README);
# 10 permuted-fashion-mnist tasks (10k training images each), 1 epoch,
# MLP 784-400-400-10 with BN.
# The other methods (finetune_, ewc_, kfac_, kfac-fixed-bn_, xkfac-merge_)
# change the hook of this config, the permuted-MNIST configs its data.
# See configs/xkfac/README.md.
_base_ = [
    '../_base_/models/mlp_bn_mnist.py',
    '../_base_/datasets/permuted_fashion-mnist_bs128.py',
    '../_base_/schedules/continual_sgd.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/kfac_bn_hook.py',
]

train_cfg = dict(num_tasks=10, max_epochs=1)
# the first 10,000 training images of every task (CPU budget); all test images
train_dataloader = dict(dataset=dict(indices=10000))
default_hooks = dict(logger=dict(interval=100))
randomness = dict(seed=0, deterministic=True)
