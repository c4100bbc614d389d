# DARTS (second order, `DARTS_V2`, searched on CIFAR-10) on ImageNet-1k in
# the mobile setting, DARTS' `train_imagenet.py`: 14 cells of 48 channels
# with the ImageNet stem, 224x224 crops, 250 epochs, SGD lr 0.1 x0.97 per
# epoch, label smoothing 0.1, auxiliary weight 0.4, no drop-path. The paper
# reports 26.7% top-1 error with 4.7M parameters. DARTS used a total batch
# of 128 for lr 0.1; under tools/dist_train.sh the batch is per process, so
# pass --auto-scale-lr to scale the lr to the total batch. The EDAS
# ImageNet config inherits from this one.
_base_ = [
    '../_base_/models/darts_14c48_in1k.py',
    '../_base_/datasets/imagenet_darts_bs128.py',
    '../_base_/schedules/darts_imagenet_250e.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(genotype='DARTS_V2'))
