# Ablation of XK-FAC: no batch-norm merging / reparameterisation (running
# statistics follow every task, bn_stats='track'); otherwise as
# xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py.
# See configs/xkfac/README.md.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py']

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
