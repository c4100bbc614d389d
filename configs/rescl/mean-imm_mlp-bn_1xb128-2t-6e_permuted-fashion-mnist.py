# mean-IMM baseline on 2 permuted Fashion-MNIST tasks: ResCL's combination
# frozen at (-1/2, +1/2), task 1 fine-tuned for all its 6 epochs.
_base_ = ['./rescl_mlp-bn_1xb128-2t-6e_permuted-fashion-mnist.py']

custom_hooks = [dict(type='ResCLHook', finetune_epochs=6)]
