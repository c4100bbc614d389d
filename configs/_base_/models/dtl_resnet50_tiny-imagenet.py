# Disposable transfer learning with ResNet-50 (the source model of
# resnet50_tiny-imagenet.py): a 200-class target head (CUB-200-2011; the
# Flowers-102 configs set 102), the pre-trained 200-class Tiny-ImageNet
# head frozen as the source head of the GC loss (defaults as in
# dtl_resnet18_cifar.py).
model = dict(
    type='DTLClassifier',
    classifier=dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(type='ResNet', depth=50),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=200,
            in_channels=2048,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    source_head=dict(
        type='LinearClsHead',
        _scope_='mmpretrain',
        num_classes=200,
        in_channels=2048),
    disposal_loss=dict(type='GCLoss'),
    disposal_weight=1.0,
    num_source_batches=2,
    train_source_head=False,
    source_bn='train',
)
