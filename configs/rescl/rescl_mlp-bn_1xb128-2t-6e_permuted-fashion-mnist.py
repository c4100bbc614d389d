# ResCL on 2 permuted Fashion-MNIST tasks: task 1 fine-tunes for 3 epochs
# and trains the combination for 3 (the finetune_ sibling's model, data and
# schedule). The reproduction of configs/rescl/README.md.
_base_ = [
    './finetune_mlp-bn_1xb128-2t-6e_permuted-fashion-mnist.py',
    '../_base_/continual/rescl.py'
]

model = dict(
    _delete_=True,
    **_base_.rescl_model,
    classifier=_base_.model,
    input_shape=(1, 28, 28))
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
custom_hooks = [dict(type='ResCLHook', finetune_epochs=3)]
