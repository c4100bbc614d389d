# ResCL on split Fashion-MNIST (5 tasks of 2 classes): every task after the
# first fine-tunes for 3 epochs and trains the combination for 3, then
# merges; the source distillation covers all earlier heads.
_base_ = [
    './finetune_mlp-bn_1xb128-5t-6e_split-fashion-mnist.py',
    '../_base_/continual/rescl.py'
]

model = dict(
    _delete_=True,
    **_base_.rescl_model,
    classifier=_base_.model,
    input_shape=(1, 28, 28))
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
custom_hooks = [dict(type='ResCLHook', finetune_epochs=3)]
