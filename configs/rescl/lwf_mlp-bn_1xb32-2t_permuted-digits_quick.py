# Quick demo, baseline: LwF (Li and Hoiem, ECCV 2016), distillation of the
# task-0 head on task 1's inputs (T = 2, weight 1; the trade-off knob is
# RegularizerHook.penalty_weight), same model, data and schedule as
# finetune_.
_base_ = ['./finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py']

custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(type='LwFRegularizer', temperature=2.0),
        penalty_weight=1.0,
        task_weighting=False)
]
