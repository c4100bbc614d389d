# mean-IMM baseline on split Fashion-MNIST: ResCL's combination frozen at
# (-1/2, +1/2), every task fine-tuned for all its 6 epochs.
_base_ = ['./rescl_mlp-bn_1xb128-5t-6e_split-fashion-mnist.py']

custom_hooks = [dict(type='ResCLHook', finetune_epochs=6)]
