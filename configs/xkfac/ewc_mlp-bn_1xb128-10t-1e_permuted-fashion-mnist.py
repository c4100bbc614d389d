# EWC (diagonal Fisher of the Linear layers and the BN gamma/beta) on 10
# permuted Fashion-MNIST tasks:
# xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py with the EWC curvature.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py']

custom_hooks = [
    dict(_base_.custom_hooks[0], curvature='ewc', bn_curvature='diag')
]
