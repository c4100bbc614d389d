# LwF (Li and Hoiem, ECCV 2016) as a regulariser: distil the previous
# model's heads on the new task's inputs; the distillation weight is
# penalty_weight (the trade-off knob of rescl_tradeoff.py).
custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(type='LwFRegularizer', temperature=2.0),
        penalty_weight=1.0,
        task_weighting=False)
]
