# XK-FAC with the batch-norm weight merging and reparameterisation
# (bn_stats='merge_reparam', merge_into='producer'; Reconstruction of the
# paper's procedure, see mmdl/continual/bn_merge.py); otherwise as
# xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py.
# Measured: better on the 3-task digits demo, much worse on 10 permuted
# Fashion-MNIST tasks; see configs/xkfac/README.md.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

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
        bn_stats='merge_reparam',
        merge_into='producer'),
]
