# Pre-activation ResNet-20 for CIFAR (16/32/64 channels at 32/16/8), the
# official ScaledNonLocal code's default depth. Non-local blocks go in
# `model.backbone.plugins` (see mmdl/models/utils/plugin_insertion.py).
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(type='mmdl.PreActResNet', depth=20, plugins=[]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=64,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ),
)
