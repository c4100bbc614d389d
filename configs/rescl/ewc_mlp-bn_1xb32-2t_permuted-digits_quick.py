# Quick demo, baseline: EWC (diagonal true Fisher, penalty weight 100), same
# model, data and schedule as finetune_.
_base_ = [
    './finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py',
    '../_base_/continual/ewc.py'
]
