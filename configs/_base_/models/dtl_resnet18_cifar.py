# Disposable transfer learning with ResNet_CIFAR-18 (the source model of
# resnet18_cifar100.py): a 10-class target head (CIFAR-10), the pre-trained
# 100-class CIFAR-100 head frozen as the source head of the GC loss
# (defaults: mean pairwise cosine of K=2 source mini-batch gradients over
# the whole feature extractor, finite-difference Hessian-vector products).
model = dict(
    type='DTLClassifier',
    classifier=dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(type='ResNet_CIFAR', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=512,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    source_head=dict(
        type='LinearClsHead',
        _scope_='mmpretrain',
        num_classes=100,
        in_channels=512),
    disposal_loss=dict(type='GCLoss'),
    disposal_weight=1.0,
    num_source_batches=2,
    train_source_head=False,
    source_bn='train',
)
