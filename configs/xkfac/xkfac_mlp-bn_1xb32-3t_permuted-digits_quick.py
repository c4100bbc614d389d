# Quick demo of XK-FAC (Lee et al., CVPR 2020) on 3 permuted-digits tasks:
# an MLP 64-400-400-10 with batch norm, 2 epochs per task, curvature of
# every Linear layer (and unit-wise for the BN gamma/beta) collected with
# train-mode batch norm after each task (KFACBNHook of
# ../_base_/continual/kfac_bn_hook.py). xkfac-merge_ adds the batch-norm
# merging / reparameterisation (bn_stats='merge_reparam').
# Minutes on 2 CPU cores; prints the accuracy matrix after every task and
# writes work_dir/continual_metrics.json and accuracy_matrix.png.
# Sibling quick configs: finetune_, ewc_, kfac_, kfac-fixed-bn_ and
# xkfac-merge_.
_base_ = [
    '../_base_/models/mlp_bn_digits.py',
    '../_base_/datasets/permuted_digits_bs32.py',
    '../_base_/schedules/continual_sgd.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/kfac_bn_hook.py',
]

default_hooks = dict(logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
