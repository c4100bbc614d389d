# The "fixed BN" baseline on ImageNet -> CUB-200-2011 with ResNet-50: the
# ImageNet curvature is collected with batch norm in eval mode and batch
# norm stays in eval mode, with the ImageNet running statistics, while CUB
# is trained, so plain K-FAC is valid (see
# xkfac_resnet50_1xb32-in1k-to-cub.py for data, checkpoint, schedule and
# the 1000-batch ImageNet curvature).
_base_ = ['./xkfac_resnet50_1xb32-in1k-to-cub.py']

custom_hooks = [
    dict(_base_.custom_hooks[0], curvature='kfac', bn_mode='fixed')
]
