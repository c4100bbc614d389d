# Disposable transfer learning on flattened 8x8 digits: the BN MLP of
# mlp_bn_digits.py (two hidden layers of 400 units) with a 5-class target
# head, and the pre-trained 5-class source head, frozen, for the disposal
# loss (GCLoss: mean pairwise cosine of K=2 source mini-batch gradients
# over the whole feature extractor, finite-difference Hessian-vector
# products). mmdl.DTLClassifier builds in mmdl's scope; the classifier, the
# source head and their children in mmpretrain's (`_scope_`).
model = dict(
    type='DTLClassifier',
    classifier=dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(
            type='mmdl.MLP',
            in_features=64,
            hidden=(400, 400),
            norm_cfg=dict(type='BN1d'),
            act_cfg=dict(type='ReLU')),
        neck=None,
        head=dict(
            type='LinearClsHead',
            num_classes=5,
            in_channels=400,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
    ),
    source_head=dict(
        type='LinearClsHead',
        _scope_='mmpretrain',
        num_classes=5,
        in_channels=400),
    disposal_loss=dict(type='GCLoss'),
    disposal_weight=1.0,
    num_source_batches=2,
    train_source_head=False,
    source_bn='train',
)
