# The "fixed BN" baseline: K-FAC, batch norm in eval mode from task 2 on, on 10
# permuted Fashion-MNIST tasks:
# xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py with K-FAC and
# bn_mode='fixed'.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py']

custom_hooks = [
    dict(_base_.custom_hooks[0], curvature='kfac', bn_mode='fixed')
]
