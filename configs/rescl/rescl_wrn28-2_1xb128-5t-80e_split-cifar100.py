# ResCL on split CIFAR-100 with WideResNet-28-2: every task after the first
# fine-tunes for 40 epochs and trains the combination for 40, then merges.
# Random crops and flips: the recorded soft targets are those of one
# augmented view per image (see the README's Reconstructions).
_base_ = [
    './finetune_wrn28-2_1xb128-5t-80e_split-cifar100.py',
    '../_base_/continual/rescl.py'
]

model = dict(
    _delete_=True,
    **_base_.rescl_model,
    classifier=_base_.model,
    input_shape=(3, 32, 32))
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
custom_hooks = [dict(type='ResCLHook', finetune_epochs=40)]
