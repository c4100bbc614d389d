# Fine-tuning baseline on split CIFAR-100 (5 tasks of 20 classes, a head
# per task), WideResNet-28-2, Adam lr 1e-3, batch 128, 80 epochs per task
# (the setting of the GT-RIPL continual-learning benchmark). Data:
# data/cifar100/cifar-100-python; nothing is downloaded.
_base_ = [
    '../_base_/models/wrn28-2_multi-task.py',
    '../_base_/datasets/split_cifar100_bs128.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
]

train_cfg = dict(num_tasks=5, max_epochs=80)
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=False)
