# XK-FAC (Lee et al., CVPR 2020) on ImageNet -> CUB-200-2011 with ResNet-50
# (batch norm in train mode): the paper's "sequential learning from ImageNet
# classification to fine-grained classification" (which fine-grained
# datasets is not known; CUB is a reconstruction, as are all the
# hyperparameters, see the schedule).
# Task 0, ImageNet, is not retrained (0 epochs): the model starts from
# mmpretrain's ImageNet ResNet-50 (`load_from`, converted so that its
# classifier is task 0's), ImageNet val is evaluated, and KFACBNHook
# collects the XK-FAC curvature of the source task at the pretrained
# weights (every Conv2d/Linear layer, unit-wise for the BN gamma/beta) on
# max_batches=1000 training batches (32,000 images, 2.5% of ImageNet: all
# 1.28M would take as long as an ImageNet epoch). The running statistics
# follow CUB (bn_stats='track', as the permuted-MNIST XK-FAC configs); the
# batch-norm merging / reparameterisation (Reconstruction,
# mmdl/continual/bn_merge.py) is one option away:
# --cfg-options custom_hooks.0.bn_stats=merge_reparam. Task 1, CUB, is
# trained 30 epochs with the penalty; continual_metrics.json then holds
# ImageNet val top-1 (row 1, column 0) and CUB test top-1 (row 1,
# column 1).
# Checkpoint: see configs/xkfac/README.md, "ImageNet -> fine-grained":
#   checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth from
#   https://download.openmmlab.com/mmclassification/v0/resnet/
#   resnet50_8xb32_in1k_20210831-ea4938fc.pth, then
#   python tools/model_converters/in1k_to_multitask.py \
#       checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth \
#       checkpoints/resnet50_8xb32_in1k_multi-task.pth
# Siblings: finetune_, l2-sp_, ewc_, kfac_, kfac-fixed-bn_ (same data and
# schedule); xkfac_ for Stanford Cars, FGVC-Aircraft and Flowers-102.
_base_ = [
    '../_base_/models/resnet50_multi-task.py',
    '../_base_/datasets/imagenet_to_cub_bs32.py',
    '../_base_/schedules/continual_sgd_0e-30e_cosine.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/kfac_bn_hook.py',
]

load_from = 'checkpoints/resnet50_8xb32_in1k_multi-task.pth'
# the checkpoint has no target classifier (head.fcs.1, initialised randomly):
# load the rest, and log the 2 missing keys
load_strict = False

custom_hooks = [dict(_base_.custom_hooks[0], max_batches=1000)]

# checkpoints carry the hook's curvature (about 0.75 GB per task for
# K-FAC/XK-FAC on ResNet-50 with both classifiers)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=10, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
