# MAS (Aljundi et al., ECCV 2018): importance = mean over the task's
# training samples of |d ||logits||^2 / d theta| (exact per-sample
# gradients, eval mode), summed over tasks, on the Linear/Conv2d layers and
# the batch-norm gamma/beta; penalty penalty_weight * sum Omega dW^2, so
# penalty_weight is the paper's lambda (task_weighting=False keeps it exact).
custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(
            type='MASRegularizer',
            per_sample=True,
            accumulate='sum',
            include_bn=True),
        penalty_weight=1.0,
        task_weighting=False)
]
