# Quick demo, baseline: LwF (T = 2, distillation weight 1), same model, data
# and schedule as finetune_.
_base_ = [
    './finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py',
    '../_base_/continual/lwf.py'
]
