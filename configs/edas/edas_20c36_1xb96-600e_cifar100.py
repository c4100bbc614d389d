# EDAS: the cell found by the EDAS CIFAR-10 search transferred to
# CIFAR-100, trained with DARTS' CIFAR evaluation protocol: 20 cells of 36
# channels, batch 96, 600 epochs, cutout 16, drop-path 0.2 ramped
# linearly, auxiliary weight 0.4 (see
# darts-v2_20c36_1xb96-600e_cifar100.py). The genotype is the JSON file
# that the GenotypeHook of edas_search-20c16_1xb64-50e_cifar10.py writes to
# that search's work dir: run the search first (from the repository root),
# or point `model.backbone.genotype` at another genotype file.
_base_ = ['./darts-v2_20c36_1xb96-600e_cifar100.py']

model = dict(
    backbone=dict(genotype='work_dirs/edas_search-20c16_1xb64-50e_cifar10/'
                  'genotype.json'))
