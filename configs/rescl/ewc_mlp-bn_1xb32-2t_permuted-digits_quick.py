# Quick demo, baseline: EWC (diagonal true Fisher of the Linear layers and
# the BN gamma/beta; the trade-off knob is RegularizerHook.penalty_weight),
# same model, data and schedule as finetune_.
_base_ = ['./finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py']

custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(type='EWCRegularizer', bn_curvature='diag'),
        penalty_weight=100.0,
        task_weighting=False)
]
