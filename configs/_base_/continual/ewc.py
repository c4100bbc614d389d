# EWC (Kirkpatrick et al., PNAS 2017): diagonal true Fisher of the
# Linear/Conv2d layers and the batch-norm gamma/beta; penalty_weight is the
# trade-off knob.
custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(type='EWCRegularizer', bn_curvature='diag'),
        penalty_weight=100.0,
        task_weighting=False)
]
