# WideResNet-28-10 for CIFAR (16/160/320/640 channels; stages at 32/16/8).
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(
        type='mmdl.WideResNet', depth=28, widen_factor=10, plugins=[]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=640,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ),
)
