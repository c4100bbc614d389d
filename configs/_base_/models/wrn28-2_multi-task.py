# WideResNet-28-2 for CIFAR (16/32/64/128 channels) with one classifier per
# task (split CIFAR-100: 5 tasks of 20 classes), the network of ResCL's
# split-CIFAR-100 experiments in the GT-RIPL benchmark.
model = dict(
    type='mmdl.ContinualImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(type='mmdl.WideResNet', depth=28, widen_factor=2),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='mmdl.MultiTaskLinearClsHead',
        num_tasks=5,
        num_classes=20,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
