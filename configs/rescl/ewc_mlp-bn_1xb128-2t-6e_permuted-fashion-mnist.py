# EWC baseline on 2 permuted Fashion-MNIST tasks (finetune_ sibling's model,
# data and schedule).
_base_ = [
    './finetune_mlp-bn_1xb128-2t-6e_permuted-fashion-mnist.py',
    '../_base_/continual/ewc.py'
]
