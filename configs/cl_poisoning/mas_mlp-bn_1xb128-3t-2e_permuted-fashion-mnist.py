# Victim of the poisoning attack, MAS (lambda = 1): otherwise as the EWC
# config.
_base_ = [
    '../_base_/models/mlp_bn_mnist_multi-task.py',
    '../_base_/datasets/permuted_fashion-mnist_bs128.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/mas.py',
]

model = dict(head=dict(num_tasks=3))
train_dataloader = dict(dataset=dict(indices=10000))
train_cfg = dict(num_tasks=3, max_epochs=2)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=-1))
randomness = dict(seed=0, deterministic=True)
