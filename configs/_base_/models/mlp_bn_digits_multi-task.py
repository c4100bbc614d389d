# The BN MLP of mlp_bn_digits.py with one 10-class classifier per task
# (task-incremental learning; ResCL and its baselines). Set num_tasks to
# the sequence's train_cfg.num_tasks.
_base_ = ['./mlp_bn_digits.py']

model = dict(
    head=dict(
        _delete_=True,
        type='mmdl.MultiTaskLinearClsHead',
        num_tasks=2,
        num_classes=10,
        in_channels=400))
