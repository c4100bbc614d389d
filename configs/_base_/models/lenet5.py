# mmpretrain's LeNet-5 classifier (32x32 grey input, classifier inside the
# backbone). `_scope_` makes the classifier build its children in
# mmpretrain's scope.
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(type='LeNet5', num_classes=10),
    neck=None,
    head=dict(
        type='ClsHead',
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ),
)
