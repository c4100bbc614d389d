# K-FAC penalty, train-mode batch norm (inter-example terms ignored), on 10
# permuted-MNIST tasks: xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py
# with the K-FAC curvature.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py']

custom_hooks = [dict(_base_.custom_hooks[0], curvature='kfac')]
