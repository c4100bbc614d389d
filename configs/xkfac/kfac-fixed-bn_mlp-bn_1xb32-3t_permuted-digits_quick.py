# Quick demo: the "fixed BN" baseline: K-FAC with batch norm in eval mode
# (first task's statistics) from the second task on.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = [
    dict(_base_.custom_hooks[0], curvature='kfac', bn_mode='fixed')
]
