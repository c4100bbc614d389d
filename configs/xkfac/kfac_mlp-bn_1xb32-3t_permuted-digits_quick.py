# Quick demo: K-FAC penalty (train-mode batch norm, inter-example terms
# ignored) on 3 permuted-digits tasks.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = [
    dict(
        type='KFACBNHook',
        curvature='kfac',
        fisher='true',
        penalty_weight=1.0,
        task_weighting=True,
        adaptive_scaling=True,
        bn_mode='train',
        bn_curvature='unitwise',
        bn_stats='track'),
]
