# The DARTS evaluation network for CIFAR (`NetworkCIFAR` of the reference
# code, DARTS' `train.py` defaults): mmpretrain's ImageClassifier with
# mmdl's DARTSBackbone built from a genotype (20 cells, 36 channels,
# reductions at cells 6 and 13, 576 output channels), drop-path 0.2 on
# every non-identity operation and an auxiliary classifier (weight 0.4) on
# the output of cell 13 (8x8 for 32x32 images). The DropPathScheduleHook
# ramps the drop-path probability linearly from 0 to 0.2 over training.
# Leaves set `model.backbone.genotype` (a published name or a JSON file).
model = dict(
    type='ImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(
        type='mmdl.DARTSBackbone',
        genotype='DARTS_V2',
        num_layers=20,
        base_channels=36,
        stem='cifar',
        auxiliary=True,
        drop_path_rate=0.2),
    # the head pools globally itself (and needs both feature maps)
    neck=None,
    head=dict(
        type='mmdl.AuxiliaryClsHead',
        num_classes=10,
        in_channels=576,
        aux_in_channels=576,
        aux_weight=0.4,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)),
)
custom_hooks = [dict(type='DropPathScheduleHook')]
