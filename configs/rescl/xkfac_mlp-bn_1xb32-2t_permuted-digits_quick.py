# Quick demo, baseline: XK-FAC (Lee et al., CVPR 2020; configs/xkfac) with
# the KFACBNHook defaults, same model, data and schedule as finetune_.
_base_ = [
    './finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py',
    '../_base_/continual/kfac_bn_hook.py'
]
