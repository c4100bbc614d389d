# EDAS search on CIFAR-10 (reconstruction of Hong, Ahn and Kim, arXiv
# 1912.01237): single-edge relaxation in a 20-cell, 16-channel search
# network (the depth the evaluation network has; single-edge search keeps
# its memory close to one path), 50 epochs, batch 64, the DARTS optimisers
# (first order); half of the CIFAR-10 training set trains the weights,
# the other half the architecture. GenotypeHook writes
# work_dirs/edas_search-20c16_1xb64-50e_cifar10/genotype.json, which the
# edas_20c36_* configs train.
_base_ = [
    '../_base_/models/darts_search_8c16_cifar.py',
    '../_base_/datasets/cifar10_search_bs64.py',
    '../_base_/schedules/darts_search_50e.py',
    '../_base_/default_runtime.py',
]

model = dict(classifier=dict(backbone=dict(mode='single_edge', num_layers=20)))
train_cfg = dict(paired_dataloaders=dict(arch={{_base_.arch_dataloader}}))
