# Quick demo: EWC (diagonal Fisher of the Linear layers) on 3
# permuted-digits tasks.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = [
    dict(
        type='KFACBNHook',
        curvature='ewc',
        fisher='true',
        penalty_weight=1.0,
        task_weighting=True,
        adaptive_scaling=True,
        bn_mode='train',
        bn_curvature='diag',
        bn_stats='track'),
]
