# Ablation: plain K-FAC (inter-example terms of train-mode batch norm
# ignored) with the batch-norm merging / reparameterisation of
# xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py. See configs/xkfac/README.md.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py']

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
        bn_stats='merge_reparam'),
]
