# Architecture search (DARTS' `train_search.py`), for ArchSearchClassifier:
# every iteration pairs a weight batch with an architecture batch
# (PairedEpochBasedTrainLoop; the leaf config adds
# `paired_dataloaders=dict(arch=...)`). Two optimisers, split by parameter
# name (PartitionedOptimWrapperConstructor): the architecture parameters
# (`alphas_*`) with Adam (lr 3e-4, betas (0.5, 0.999), weight decay 1e-3),
# every other weight with SGD (lr 0.025, momentum 0.9, weight decay 3e-4,
# gradient norm clipped at 5), cosine to 0.001 over 50 epochs; the
# architecture learning rate is constant.
optim_wrapper = dict(
    constructor='PartitionedOptimWrapperConstructor',
    architecture=dict(
        params=['*.alphas_*'],
        optimizer=dict(
            type='Adam', lr=3e-4, betas=(0.5, 0.999), weight_decay=1e-3)),
    network=dict(
        optimizer=dict(type='SGD', lr=0.025, momentum=0.9, weight_decay=3e-4),
        clip_grad=dict(max_norm=5)),
)
param_scheduler = dict(
    network=[
        dict(
            type='CosineAnnealingLR',
            T_max=50,
            eta_min=0.001,
            by_epoch=True,
            begin=0,
            end=50)
    ],
    architecture=[],
)
train_cfg = dict(
    type='PairedEpochBasedTrainLoop', max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
