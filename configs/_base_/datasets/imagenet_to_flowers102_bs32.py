# ImageNet-1k -> Oxford Flowers-102 (102 classes): imagenet_to_cub_bs32.py
# with mmpretrain's Flowers102 as task 1, trained on 'trainval' (2,040
# images) and tested on 'test' (6,149), the usual protocol.
# Data: data/Flowers102, the original files: jpg/image_*.jpg,
# imagelabels.mat, setid.mat.
_base_ = ['./imagenet_to_cub_bs32.py']

target_root = 'data/Flowers102'
target_train = dict(
    type='mmpretrain.Flowers102', data_root=target_root, split='trainval')
target_test = dict(
    type='mmpretrain.Flowers102', data_root=target_root, split='test')

train_dataloader = dict(
    dataset=dict(dataset=[_base_.imagenet_train, target_train]))
val_dataloader = dict(dataset=dict(dataset=[_base_.imagenet_val, target_test]))
test_dataloader = dict(
    dataset=dict(dataset=[_base_.imagenet_val, target_test]))
