# The DARTS search network as an ArchSearchClassifier (own train_step:
# architecture step, then weight step): mmpretrain's ImageClassifier with
# mmdl's SingleEdgeDARTS search space (8 cells, 16 channels, 4 nodes,
# stem x3; reductions at cells 2 and 5, 256 output channels), global
# average pooling and a linear head for 10 classes. `mode` selects DARTS
# ('darts') or EDAS ('single_edge'); the GenotypeHook logs, saves and
# draws the genotype.
model = dict(
    type='ArchSearchClassifier',
    classifier=dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(
            type='mmdl.SingleEdgeDARTS',
            mode='single_edge',
            num_layers=8,
            base_channels=16,
            num_nodes=4,
            in_channels=3),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=256,
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0))),
    unrolled=False,
    warmup_epochs=0,
    seed=0,
)
custom_hooks = [dict(type='GenotypeHook', interval=1)]
