# Disposable transfer from Tiny-ImageNet-200 to Flowers-102 (target,
# data/flowers102); CUB-200-2011 is the downstream task of the
# piggyback-learning test. Pipelines as in tiny-imagenet_to_cub_bs64.py.
_base_ = ['./tiny-imagenet_to_cub_bs64.py']

target_train = dict(
    type='mmpretrain.Flowers102', data_root='data/flowers102',
    split='trainval', pipeline={{_base_.train_pipeline}})
target_test = dict(
    type='mmpretrain.Flowers102', data_root='data/flowers102',
    split='test', pipeline={{_base_.test_pipeline}})
train_dataloader = dict(dataset=target_train)
val_dataloader = dict(dataset=target_test)
test_dataloader = val_dataloader
piggyback_tasks = dict(
    downstream=dict(
        train=dict(dataset=dict(
            type='mmpretrain.CUB', data_root='data/CUB_200_2011',
            split='train')),
        test=dict(dataset=dict(
            type='mmpretrain.CUB', data_root='data/CUB_200_2011',
            split='test')),
        num_classes=200))
