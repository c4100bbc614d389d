# Quick demo of ResCL (Lee et al., AAAI 2020) on 2 permuted-digits tasks:
# task 0 trains the source BN MLP (5 epochs); task 1 fine-tunes a target
# copy (5 epochs), records the soft targets, trains the residual
# combination (5 epochs: distillation to the source head and to the
# fine-tuned head, T = 2, and the L1 decay lambda on the coefficients),
# then merges it exactly into a network of the original size
# (work_dir/merged_task_1.pth, tested with the finetune_ config).
# Minutes on 2 CPU cores.
_base_ = [
    './finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py',
    '../_base_/continual/rescl.py'
]

model = dict(
    _delete_=True,
    **_base_.rescl_model,
    classifier=_base_.model,
    input_shape=(1, 8, 8))
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
custom_hooks = [dict(type='ResCLHook', finetune_epochs=5)]
