# K-FAC penalty with batch norm in train mode (inter-example terms ignored,
# running statistics follow CUB: no merging) on ImageNet -> CUB-200-2011
# with ResNet-50 (see
# xkfac_resnet50_1xb32-in1k-to-cub.py for data, checkpoint, schedule and
# the 1000-batch ImageNet curvature).
_base_ = ['./xkfac_resnet50_1xb32-in1k-to-cub.py']

custom_hooks = [dict(_base_.custom_hooks[0], curvature='kfac')]
