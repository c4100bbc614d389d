# Quick demo of the poisoning attack: 3 permuted-digits tasks,
# task-incremental (one head per task), the BN MLP of the digits quick
# configs, Adam lr 1e-3, batch 32, 3 epochs per task, EWC (weight 100).
#   REGS=ewc SEEDS=0 BENCH=permuted-digits_quick \
#   bash tools/misc/run_cl_poisoning.sh work_dirs/cl_poisoning_quick
# trains tasks 0-1, poisons task 2 against task 0, trains task 2 clean and
# poisoned from the same checkpoint and writes the report.
_base_ = [
    '../_base_/models/mlp_bn_digits_multi-task.py',
    '../_base_/datasets/permuted_digits_bs32.py',
    '../_base_/schedules/continual_adam.py',
    '../_base_/default_runtime.py',
    '../_base_/continual/ewc.py',
]

model = dict(head=dict(num_tasks=3))
train_cfg = dict(num_tasks=3, max_epochs=3)
auto_scale_lr = dict(base_batch_size=32)
default_hooks = dict(
    checkpoint=dict(max_keep_ckpts=-1), logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
