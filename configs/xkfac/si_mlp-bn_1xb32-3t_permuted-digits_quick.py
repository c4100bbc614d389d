# Quick demo, baseline: SI (../_base_/continual/si.py) with the model, data
# and schedule of the other quick configs (3 permuted-digits tasks, MLP
# 64-400-400-10 with BN, 2 epochs per task).
_base_ = [
    '../_base_/models/mlp_bn_digits.py',
    '../_base_/datasets/permuted_digits_bs32.py',
    '../_base_/schedules/continual_sgd.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/si.py',
]

default_hooks = dict(logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
