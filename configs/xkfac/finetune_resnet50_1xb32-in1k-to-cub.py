# Plain fine-tuning (no penalty) of the ImageNet ResNet-50 on CUB-200-2011:
# the lower bound of ImageNet -> fine-grained (see
# xkfac_resnet50_1xb32-in1k-to-cub.py for data, checkpoint and schedule).
# ImageNet val is still evaluated before and after the CUB task.
_base_ = ['./xkfac_resnet50_1xb32-in1k-to-cub.py']

custom_hooks = []
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
