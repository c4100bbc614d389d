# L2-SP (Li et al., ICML 2018: weight decay toward the pretrained weights)
# on ImageNet -> CUB-200-2011 with ResNet-50 (see
# xkfac_resnet50_1xb32-in1k-to-cub.py for data, checkpoint and schedule).
# Realised with KFACBNHook's damping, which is the same term:
# loss_damping = damping / 2 * ||theta - theta*||^2 over all trainable
# parameters, theta* = the weights at the end of task 0 (the loaded ImageNet
# weights). The curvature penalty is off (penalty_weight=0; the hook still
# collects a 1-batch EWC diagonal, which is negligible) and the CUB loss is
# not reweighted (task_weighting=False, adaptive_scaling=False).
# Differences to Li et al.: one coefficient (alpha) for all parameters; the
# new classifier is decayed toward its initialisation (N(0, 0.01^2), zero
# bias) instead of toward 0 with a separate beta; batch-norm weights and
# biases are included. damping=0.01 is a reconstruction (Li et al. tune
# alpha in 0.001..0.1 on the target task): sweep it on CUB data only.
_base_ = ['./xkfac_resnet50_1xb32-in1k-to-cub.py']

custom_hooks = [
    dict(
        type='KFACBNHook',
        curvature='ewc',
        penalty_weight=0.0,
        task_weighting=False,
        adaptive_scaling=False,
        damping=0.01,
        bn_mode='train',
        bn_curvature=None,
        bn_stats='track',
        max_batches=1),
]
