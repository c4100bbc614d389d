# ImageNet-style pre-activation ResNet-18 for Tiny-ImageNet 56x56 crops:
# 3x3 stem with stride 1 and no max-pool (stages at 56/28/14/7 with
# 64/128/256/512 channels).
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(type='mmdl.PreActResNetImageNet', depth=18, plugins=[]),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=200,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ),
)
