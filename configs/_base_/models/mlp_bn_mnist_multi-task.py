# The BN MLP of mlp_bn_mnist.py (784-400-400) with one 10-class classifier
# per task (task-incremental learning; ResCL and its baselines). Set
# num_tasks (and num_classes) to the sequence's.
_base_ = ['./mlp_bn_mnist.py']

model = dict(
    head=dict(
        _delete_=True,
        type='mmdl.MultiTaskLinearClsHead',
        num_tasks=2,
        num_classes=10,
        in_channels=400))
