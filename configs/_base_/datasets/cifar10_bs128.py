# CIFAR-10 (mmpretrain's dataset class, offline: mmdl.datasets.CIFAR10),
# recipe of Cho et al. (ICIP 2022): random crop 32 with padding 4 +
# horizontal flip; normalisation of the official code. Data: the python
# version (data/cifar10/cifar-10-batches-py); nothing is downloaded.
# verify_md5=False accepts copies re-created in that format.
dataset_type = 'CIFAR10'  # mmdl's: mmpretrain's, offline
data_root = 'data/cifar10'
data_preprocessor = dict(
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],  # (0.4914, 0.4822, 0.4465) * 255
    std=[51.5865, 50.847, 51.255],  # (0.2023, 0.1994, 0.2010) * 255
    to_rgb=False,  # CIFAR images are stored as RGB
)

train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [dict(type='mmpretrain.PackInputs')]

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
