# Disposable transfer from Tiny-ImageNet-200 (source; data/
# tiny-imagenet-200, the original layout) to CUB-200-2011 (target;
# data/CUB_200_2011, the original archive), at the source's resolution:
# RandomResizedCrop(56) + flip for training, short edge 64 + CenterCrop(56)
# for testing, ImageNet normalisation. PiggybackTestLoop retrains on 10% of
# the Tiny-ImageNet training set (class-balanced) and on Flowers-102
# (data/flowers102), a downstream task never seen during DTL. The
# Flowers-102 target (tiny-imagenet_to_flowers102_bs64.py) swaps the two.
data_preprocessor = dict(
    num_classes=200,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.RandomResizedCrop', scale=56),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.ResizeEdge', scale=64, edge='short'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='mmpretrain.PackInputs'),
]
source_train = dict(
    type='TinyImageNet', data_root='data/tiny-imagenet-200', split='train',
    pipeline=train_pipeline)
source_test = dict(source_train, split='val', pipeline=test_pipeline)
target_train = dict(
    type='mmpretrain.CUB', data_root='data/CUB_200_2011', split='train',
    pipeline=train_pipeline)
target_test = dict(target_train, split='test', pipeline=test_pipeline)
downstream_train = dict(
    type='mmpretrain.Flowers102', data_root='data/flowers102',
    split='trainval', pipeline=train_pipeline)
downstream_test = dict(downstream_train, split='test',
                       pipeline=test_pipeline)

source_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=source_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=target_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=4,
    dataset=target_test,
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

piggyback_tasks = dict(
    source=dict(
        train=dict(batch_size=64, num_workers=4, dataset=source_train),
        test=dict(batch_size=128, num_workers=4, dataset=source_test),
        num_classes=200,
        fraction=0.1),
    downstream=dict(
        train=dict(batch_size=64, num_workers=4, dataset=downstream_train),
        test=dict(batch_size=128, num_workers=4, dataset=downstream_test),
        num_classes=102,
        fraction=1.0),
)
