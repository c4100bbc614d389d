# mmpretrain's ResNet_CIFAR-18 (3x3 stem, no max-pool; stages of 64, 128,
# 256 and 512 channels), global average pooling and a 100-class linear
# head: the CIFAR-100 source model of disposable transfer learning.
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(type='ResNet_CIFAR', depth=18),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=100,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)),
)
