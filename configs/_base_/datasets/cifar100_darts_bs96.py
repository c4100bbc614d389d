# CIFAR-100 for training a DARTS evaluation network: the CIFAR-10 recipe
# (batch 96, crop, flip, cutout 16) with 100 classes and top-5. The
# normalisation and the cutout fill stay those of CIFAR-10, as in DARTS'
# code (`utils._data_transforms_cifar10` serves both datasets; CIFAR-100's
# own statistics differ by a few levels). Data: the python version under
# data/cifar100; nothing is downloaded.
_base_ = ['./cifar10_darts_bs96.py']

dataset_type = 'CIFAR100'  # mmdl's: mmpretrain's, offline
data_root = 'data/cifar100'
data_preprocessor = dict(num_classes=100)

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
