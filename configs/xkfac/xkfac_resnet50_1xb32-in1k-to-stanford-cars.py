# XK-FAC on ImageNet -> Stanford Cars with ResNet-50: as
# xkfac_resnet50_1xb32-in1k-to-cub.py (checkpoint, schedule, 1000-batch
# ImageNet curvature; all hyperparameters are a reconstruction) with
# 196 target classes.
_base_ = [
    '../_base_/models/resnet50_multi-task.py',
    '../_base_/datasets/imagenet_to_stanford-cars_bs32.py',
    '../_base_/schedules/continual_sgd_0e-30e_cosine.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/kfac_bn_hook.py',
]

model = dict(head=dict(num_classes=[1000, 196]))
load_from = 'checkpoints/resnet50_8xb32_in1k_multi-task.pth'
# the checkpoint has no target classifier (head.fcs.1, initialised randomly):
# load the rest, and log the 2 missing keys
load_strict = False

custom_hooks = [dict(_base_.custom_hooks[0], max_batches=1000)]

default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=10, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
