# LwF baseline on split Fashion-MNIST (finetune_ sibling's model, data and
# schedule).
_base_ = [
    './finetune_mlp-bn_1xb128-5t-6e_split-fashion-mnist.py',
    '../_base_/continual/lwf.py'
]
