# Quick demo: EDAS single-edge search on scikit-learn's digits (16x16), a
# 5-cell, 8-channel search network, 10 epochs of 12 paired steps; logs the
# genotype every epoch and writes genotype.json and genotype.png to the
# work dir. The architecture learning rate is 10 times DARTS' (3e-3): in
# 120 steps each of the 28 edge types is relaxed about 4 times, and at 3e-4
# its logits would move no more than their random initialisation (1e-3).
# The DARTS quick config inherits from this one, learning rate included.
_base_ = [
    '../_base_/models/darts_search_8c16_cifar.py',
    '../_base_/datasets/digits_search_bs64.py',
    '../_base_/schedules/darts_search_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    classifier=dict(
        backbone=dict(
            mode='single_edge', num_layers=5, base_channels=8, in_channels=1),
        head=dict(in_channels=128)))
optim_wrapper = dict(architecture=dict(optimizer=dict(lr=3e-3)))
param_scheduler = dict(network=[
    dict(
        type='CosineAnnealingLR',
        T_max=10,
        eta_min=0.001,
        by_epoch=True,
        begin=0,
        end=10)
])
train_cfg = dict(
    max_epochs=10,
    val_interval=5,
    paired_dataloaders=dict(arch={{_base_.arch_dataloader}}))
default_hooks = dict(logger=dict(interval=6))
randomness = dict(seed=0, deterministic=True)
