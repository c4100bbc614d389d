# MLP with BatchNorm for flattened 8x8 digits (64 inputs): two hidden
# layers of 400 units, Linear -> BN1d -> ReLU each (mmdl.MLP), and one
# shared 10-class linear classifier (domain-incremental sequences such as
# permuted digits). For task-incremental sequences use
# head=dict(type='mmdl.MultiTaskLinearClsHead', num_tasks=..., ...).
# mmdl.ContinualImageClassifier holds the current task and the penalties
# installed by continual-learning hooks. `_scope_` builds the children
# (data preprocessor, heads, losses) in mmpretrain's scope; the data
# preprocessor (mean/std) comes from the dataset config.
model = dict(
    type='mmdl.ContinualImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(
        type='mmdl.MLP',
        in_features=64,
        hidden=(400, 400),
        norm_cfg=dict(type='BN1d'),
        act_cfg=dict(type='ReLU')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=400,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ),
)
