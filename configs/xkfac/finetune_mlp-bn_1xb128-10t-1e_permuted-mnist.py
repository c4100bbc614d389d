# Plain fine-tuning, no penalty, on 10 permuted-MNIST tasks:
# xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py without the hook.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py']

custom_hooks = []
