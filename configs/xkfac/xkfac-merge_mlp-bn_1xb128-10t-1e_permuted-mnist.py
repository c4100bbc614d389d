# XK-FAC with the batch-norm weight merging and reparameterisation
# (bn_stats='merge_reparam', merge_into='producer'; Reconstruction of the
# paper's procedure, see mmdl/continual/bn_merge.py); otherwise as
# xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py.
# configs/xkfac/README.md compares it with bn_stats='track'.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py']

custom_hooks = [
    dict(
        _base_.custom_hooks[0],
        bn_stats='merge_reparam',
        merge_into='producer')
]
