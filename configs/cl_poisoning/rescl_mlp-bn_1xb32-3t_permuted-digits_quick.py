# Victim of the poisoning attack, ResCL: the ResCL quick demo of
# configs/rescl on 3 permuted-digits tasks (task-incremental BN MLP, Adam
# lr 1e-3, batch 32; task 0 trains the source 5 epochs, tasks 1 and 2
# fine-tune 5 epochs and train the combination 5 more, then merge). The
# attack differentiates through the fine-tuning stage only (a surrogate;
# see configs/cl_poisoning/README.md).
#   REGS=rescl BENCH=permuted-digits_quick \
#   BASE_OPTIONS="train_cfg.num_tasks=2 train_cfg.max_epochs=[5,10]" \
#   bash tools/misc/run_cl_poisoning.sh work_dirs/cl_poisoning_rescl
_base_ = ['../rescl/rescl_mlp-bn_1xb32-2t_permuted-digits_quick.py']

model = dict(classifier=dict(head=dict(num_tasks=3)))
train_cfg = dict(num_tasks=3, max_epochs=[5, 10, 10])
default_hooks = dict(checkpoint=dict(max_keep_ckpts=-1))
