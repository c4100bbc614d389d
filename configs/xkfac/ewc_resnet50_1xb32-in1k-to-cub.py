# EWC (diagonal Fisher of every Conv2d/Linear layer) on ImageNet ->
# CUB-200-2011 with ResNet-50, batch norm in train mode (see
# xkfac_resnet50_1xb32-in1k-to-cub.py for data, checkpoint, schedule and
# the 1000-batch ImageNet curvature).
_base_ = ['./xkfac_resnet50_1xb32-in1k-to-cub.py']

custom_hooks = [
    dict(_base_.custom_hooks[0], curvature='ewc', bn_curvature='diag')
]
