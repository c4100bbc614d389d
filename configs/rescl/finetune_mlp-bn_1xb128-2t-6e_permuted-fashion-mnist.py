# Fine-tuning baseline on 2 permuted Fashion-MNIST tasks (Debian package
# dataset-fashion-mnist), multi-head BN MLP 784-400-400, Adam lr 1e-3,
# batch 128, 6 epochs per task. Also the unwrapped config of the ResCL
# sibling's merged checkpoints.
_base_ = [
    '../_base_/models/mlp_bn_mnist_multi-task.py',
    '../_base_/datasets/permuted_fashion-mnist_bs128.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_tasks=2))
train_cfg = dict(num_tasks=2, max_epochs=6)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=True)
