# KFACBNHook (mmdl/engine/hooks/kfac_bn_hook.py) with the XK-FAC settings of
# configs/xkfac: after every task, XK-FAC curvature of every Linear/Conv2d
# layer (unit-wise for the batch-norm gamma/beta) with labels sampled from
# the model and batch norm in train mode; the next tasks weight the penalty
# and the task loss by the number of tasks (lambda_s = T/(T+1)) with the
# adaptive scales; running statistics follow every task.
# mmengine replaces lists instead of merging them: a config changes single
# arguments with
#   custom_hooks = [dict(_base_.custom_hooks[0], curvature='kfac')]
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
        bn_stats='track'),
]
