# MLP with batch norm for flattened 28x28 images (permuted MNIST /
# Fashion-MNIST, as in Lee et al., CVPR 2020; width and depth of the paper
# are not known: two hidden layers of 400 units, Linear -> BN1d -> ReLU),
# one shared 10-class classifier (domain-incremental).
model = dict(
    type='mmdl.ContinualImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(
        type='mmdl.MLP',
        in_features=784,
        hidden=(400, 400),
        norm_cfg=dict(type='BN1d'),
        act_cfg=dict(type='ReLU')),
    neck=None,
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=400,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
    ),
)
