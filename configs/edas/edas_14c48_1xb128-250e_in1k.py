# EDAS: the cell found by the EDAS CIFAR-10 search transferred to
# ImageNet-1k in the mobile setting, DARTS' `train_imagenet.py`: 14 cells
# of 48 channels, 250 epochs, label smoothing 0.1, auxiliary weight 0.4
# (see darts-v2_14c48_1xb128-250e_in1k.py, also for the batch size). The
# genotype is the JSON file that the GenotypeHook of
# edas_search-20c16_1xb64-50e_cifar10.py writes to that search's work dir:
# run the search first (from the repository root), or point
# `model.backbone.genotype` at another genotype file.
_base_ = ['./darts-v2_14c48_1xb128-250e_in1k.py']

model = dict(
    backbone=dict(genotype='work_dirs/edas_search-20c16_1xb64-50e_cifar10/'
                  'genotype.json'))
