# CIFAR-100 (mmpretrain's dataset class, offline: mmdl.datasets.CIFAR100):
# the CIFAR-10 recipe of Cho et al. (ICIP 2022) with 100 classes and top-5.
# Data: the python version (data/cifar100/cifar-100-python); nothing is
# downloaded. verify_md5=False accepts copies re-created in that format.
_base_ = ['./cifar10_bs128.py']

dataset_type = 'CIFAR100'  # mmdl's: mmpretrain's, offline
data_root = 'data/cifar100'
data_preprocessor = dict(num_classes=100)

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
