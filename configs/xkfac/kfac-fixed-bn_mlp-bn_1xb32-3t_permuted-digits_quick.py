# Quick demo: the "fixed BN" baseline: K-FAC with batch norm in eval mode
# (first task's statistics) from the second task on.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = [
    dict(
        type='KFACBNHook',
        curvature='kfac',
        fisher='true',
        penalty_weight=1.0,
        task_weighting=True,
        adaptive_scaling=True,
        bn_mode='fixed',
        bn_curvature='unitwise',
        bn_stats='track'),
]
