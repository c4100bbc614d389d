# Quick demo: EWC (diagonal Fisher of the Linear layers and the BN
# gamma/beta) on 3 permuted-digits tasks.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = [
    dict(_base_.custom_hooks[0], curvature='ewc', bn_curvature='diag')
]
