# Quick demo, baseline: plain fine-tuning of a multi-head BN MLP on 2
# permuted-digits tasks (task 0: 5 epochs, task 1: 10 epochs, as many as
# ResCL's fine-tuning and combination stages together), Adam lr 1e-3. It is
# also the unwrapped classifier's config: tools/test.py runs the merged
# checkpoints that ResCLHook writes (merged_task_<t>.pth) with it.
_base_ = [
    '../_base_/models/mlp_bn_digits_multi-task.py',
    '../_base_/datasets/permuted_digits_bs32.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
]

train_cfg = dict(num_tasks=2, max_epochs=[5, 10])
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
