# The DARTS evaluation network for ImageNet in the mobile setting
# (`NetworkImageNet` of the reference code, DARTS' `train_imagenet.py`
# defaults): the CIFAR model of darts_20c36_cifar10.py with the ImageNet
# stem (three stride-2 3x3 convolutions: cells start at 28x28 for 224x224
# images), 14 cells of 48 channels, reductions at cells 4 and 9, 768
# output channels (7x7); an auxiliary classifier (ImageNet type, weight
# 0.4) on the output of cell 9 (7x7); label smoothing 0.1. Drop-path is
# off, as `train_imagenet.py`'s default (--drop_path_prob 0); the
# DropPathScheduleHook is kept so that an override of `drop_path_rate`
# takes effect (ramped from 0).
_base_ = ['./darts_20c36_cifar10.py']

model = dict(
    backbone=dict(
        num_layers=14, base_channels=48, stem='imagenet',
        drop_path_rate=0.0),
    head=dict(
        num_classes=1000,
        in_channels=768,
        aux_in_channels=768,
        aux_type='imagenet',
        loss=dict(
            _delete_=True,
            type='LabelSmoothLoss',
            label_smooth_val=0.1,
            loss_weight=1.0),
        topk=(1, 5)),
)
