# Quick demo on scikit-learn's bundled digits (upsampled to 32x32): a
# pre-activation ResNet-14 with a 4-head Scaled Non-Local block in stage 1
# (16x16, 32 channels), before its last unit. Minutes on 2 CPU cores; the
# baseline and softmax variants are the *_quick.py configs beside it.
_base_ = [
    '../_base_/datasets/digits_bs32.py',
    '../_base_/schedules/sgd_40e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(
        type='mmdl.PreActResNet',
        depth=14,
        in_channels=1,
        plugins=[
            dict(
                cfg=dict(type='ScaledNonLocal2d', num_heads=4),
                stage=1,
                position=-1)
        ]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)

param_scheduler = dict(T_max=15, end=15)
train_cfg = dict(max_epochs=15, val_interval=5)
default_hooks = dict(logger=dict(interval=20))
randomness = dict(seed=0, deterministic=True)
