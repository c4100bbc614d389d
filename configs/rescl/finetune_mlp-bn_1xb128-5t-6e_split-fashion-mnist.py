# Fine-tuning baseline on split Fashion-MNIST: 5 tasks of 2 classes, one
# 2-class head per task (task-incremental), BN MLP 784-400-400, Adam lr
# 1e-3, batch 128, 6 epochs per task.
_base_ = [
    '../_base_/models/mlp_bn_mnist_multi-task.py',
    '../_base_/datasets/split_fashion-mnist_bs128.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_tasks=5, num_classes=2))
data_preprocessor = dict(num_classes=2)
train_cfg = dict(num_tasks=5, max_epochs=6)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=True)
