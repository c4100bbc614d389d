# Disposable transfer from CIFAR-100 (source) to CIFAR-10 (target), both
# with the CIFAR recipe of cifar10_bs128.py (random crop with 4 pixels of
# padding and horizontal flips for training). Data: the python versions
# in data/cifar100 and data/cifar10 (mmdl's offline CIFAR classes; nothing
# is downloaded). PiggybackTestLoop retrains on 10% of the CIFAR-100
# training set (class-balanced) and on Tiny-ImageNet (data/
# tiny-imagenet-200) resized to 32x32, a downstream task never seen
# during DTL; the training pipelines are random, so nothing is cached.
data_preprocessor = dict(
    num_classes=10,
    mean=[125.307, 122.961, 113.8575],
    std=[51.5865, 50.847, 51.255],
    to_rgb=False)

train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [dict(type='mmpretrain.PackInputs')]
source_train = dict(
    type='CIFAR100', data_root='data/cifar100', split='train',
    pipeline=train_pipeline)
source_test = dict(
    type='CIFAR100', data_root='data/cifar100', split='test',
    pipeline=test_pipeline)
target_train = dict(
    type='CIFAR10', data_root='data/cifar10', split='train',
    pipeline=train_pipeline)
target_test = dict(
    type='CIFAR10', data_root='data/cifar10', split='test',
    pipeline=test_pipeline)
downstream_train = dict(
    type='TinyImageNet',
    data_root='data/tiny-imagenet-200',
    split='train',
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=32),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='mmpretrain.PackInputs'),
    ])
downstream_test = dict(
    type='TinyImageNet',
    data_root='data/tiny-imagenet-200',
    split='val',
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=32),
        dict(type='mmpretrain.PackInputs'),
    ])

source_dataloader = dict(
    batch_size=128,
    num_workers=4,
    dataset=source_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    dataset=target_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    num_workers=4,
    dataset=target_test,
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

piggyback_tasks = dict(
    source=dict(
        train=dict(batch_size=128, num_workers=4, dataset=source_train),
        test=dict(batch_size=256, num_workers=4, dataset=source_test),
        num_classes=100,
        fraction=0.1),
    downstream=dict(
        train=dict(batch_size=128, num_workers=4, dataset=downstream_train),
        test=dict(batch_size=256, num_workers=4, dataset=downstream_test),
        num_classes=200,
        fraction=0.1),
)
