# SI (Zenke et al., ICML 2017): per-parameter path integrals of the task
# loss's gradient (gradient='task') over each task's optimisation steps,
# Omega += omega / (Delta^2 + xi) with xi = 0.1, on the Linear/Conv2d layers
# and the batch-norm gamma/beta; penalty penalty_weight * sum Omega dW^2, so
# penalty_weight is the paper's c (task_weighting=False keeps it exact).
custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(
            type='SIRegularizer', xi=0.1, gradient='task', include_bn=True),
        penalty_weight=1.0,
        task_weighting=False)
]
