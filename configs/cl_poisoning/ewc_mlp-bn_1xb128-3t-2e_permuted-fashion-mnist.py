# Victim of the poisoning attack, EWC: 3 permuted Fashion-MNIST tasks
# (Debian dataset-fashion-mnist), task-incremental (one 10-class head per
# task), the BN MLP 784-400-400, Adam lr 1e-3, batch 128, 2 epochs per task
# on the first 10,000 training images of each task (the attack's cost on
# 2 CPU cores), tested on the 10,000 test images; EWC weight 100.
# tools/misc/run_cl_poisoning.sh trains tasks 0-1, poisons task 2 against
# task 0 and trains task 2 clean and poisoned from the same checkpoint.
_base_ = [
    '../_base_/models/mlp_bn_mnist_multi-task.py',
    '../_base_/datasets/permuted_fashion-mnist_bs128.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/ewc.py',
]

model = dict(head=dict(num_tasks=3))
train_dataloader = dict(dataset=dict(indices=10000))
train_cfg = dict(num_tasks=3, max_epochs=2)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=-1))
randomness = dict(seed=0, deterministic=True)
