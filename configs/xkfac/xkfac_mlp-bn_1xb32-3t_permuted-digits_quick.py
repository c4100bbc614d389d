# Quick demo of XK-FAC (Lee et al., CVPR 2020) on 3 permuted-digits tasks:
# an MLP 64-400-400-10 with batch norm, 2 epochs per task, curvature of
# every Linear layer (and unit-wise for the BN gamma/beta) collected with
# train-mode batch norm after each task. xkfac-merge_ adds the batch-norm
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
]

custom_hooks = [
    dict(
        type='KFACBNHook',
        curvature='xkfac',
        fisher='true',
        penalty_weight=1.0,
        task_weighting=True,
        adaptive_scaling=True,
        bn_mode='train',
        bn_curvature='unitwise',
        bn_stats='track'),
]

default_hooks = dict(logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
