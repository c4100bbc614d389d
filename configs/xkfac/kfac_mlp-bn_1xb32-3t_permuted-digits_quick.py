# Quick demo: K-FAC penalty (train-mode batch norm, inter-example terms
# ignored) on 3 permuted-digits tasks.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = [dict(_base_.custom_hooks[0], curvature='kfac')]
