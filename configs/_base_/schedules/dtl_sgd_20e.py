# Disposable transfer: SGD (lr 0.05, momentum 0.9, weight decay 5e-4),
# cosine decay over 20 epochs of the target set, every target batch paired
# with a source batch (PairedEpochBasedTrainLoop; the leaf config adds
# `paired_dataloaders=dict(source=...)`). Testing runs the piggyback-
# learning protocol (PiggybackTestLoop; the leaf adds its `tasks`): 30
# epochs of SGD (lr 0.01, linear probe 0.1, momentum 0.9, weight decay
# 5e-4, cosine), linear probe and full fine-tuning, 3 seeds, against the
# pre-trained and randomly initialised feature extractors, retraining from
# preprocessed samples cached once (the pipelines have no random
# augmentation).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=20, by_epoch=True, begin=0, end=20)
train_cfg = dict(type='PairedEpochBasedTrainLoop', max_epochs=20,
                 val_interval=5)
val_cfg = dict()
test_cfg = dict(
    type='PiggybackTestLoop',
    source_task='source',
    modes=('linear', 'finetune'),
    epochs=30,
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    linear_lr=0.1,
    seeds=(0, 1, 2),
    subset_seed=0,
    references=('pretrained', 'random'),
    # the pipelines have no random augmentation: preprocess once
    cache=True)
auto_scale_lr = dict(base_batch_size=64)
