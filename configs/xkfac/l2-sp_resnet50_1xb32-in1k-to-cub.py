# L2-SP (Li, Grandvalet and Davoine, ICML 2018: weight decay toward the
# pretrained weights) on ImageNet -> CUB-200-2011 with ResNet-50 (see
# xkfac_resnet50_1xb32-in1k-to-cub.py for data, checkpoint and schedule).
# RegularizerHook with L2SPRegularizer (mmdl/continual/regularizers/
# l2_sp.py); Li et al.'s
#   Omega(w) = alpha / 2 ||w_S - w_S^0||^2 + beta / 2 ||w_new||^2
# is loss_penalty, with
# * w^0, the starting point, = the weights at the end of task 0: the
#   loaded ImageNet weights (task 0 has 0 epochs); never re-centred;
# * w_S = all trainable parameters, batch-norm weights and biases included:
#   the CUB classifier (head.fcs.1) exists from the start in the multi-task
#   head, so it is decayed toward its initialisation (N(0, 0.01^2), zero
#   bias) with alpha instead of toward 0 with a separate beta. Li et al.'s
#   treatment of the new classifier is
#   regularizer=dict(type='L2SPRegularizer', alpha=0.01, beta=0.01,
#                    new_params=['head.fcs.1']);
# * the CUB loss and Omega unweighted (penalty_weight=1,
#   task_weighting=False, adaptive_scaling=False), no damping.
# alpha=0.01 is a reconstruction (Li et al. tune alpha in 0.001..0.1 on the
# target task): sweep it on CUB data only.
_base_ = ['./xkfac_resnet50_1xb32-in1k-to-cub.py']

custom_hooks = [
    dict(
        type='RegularizerHook',
        regularizer=dict(type='L2SPRegularizer', alpha=0.01),
        penalty_weight=1.0,
        task_weighting=False,
        adaptive_scaling=False),
]
