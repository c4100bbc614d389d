# mmpretrain's ResNet-50 (ImageNet layout) for Tiny-ImageNet 56x56 crops,
# global average pooling and a 200-class linear head: the Tiny-ImageNet
# source model of disposable transfer learning.
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(type='ResNet', depth=50),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=200,
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
)
