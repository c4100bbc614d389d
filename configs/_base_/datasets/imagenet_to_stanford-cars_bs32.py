# ImageNet-1k -> Stanford Cars (196 classes): imagenet_to_cub_bs32.py with
# mmpretrain's StanfordCars (splits 'train' / 'test') as task 1.
# Data: data/Stanford_Cars in either original layout that mmpretrain reads:
# car_ims/*.jpg + cars_annos.mat, or cars_train/, cars_test/ + devkit/
# (cars_train_annos.mat, cars_test_annos_withlabels.mat).
_base_ = ['./imagenet_to_cub_bs32.py']

target_root = 'data/Stanford_Cars'
target_train = dict(
    type='mmpretrain.StanfordCars', data_root=target_root, split='train')
target_test = dict(
    type='mmpretrain.StanfordCars', data_root=target_root, split='test')

train_dataloader = dict(
    dataset=dict(dataset=[_base_.imagenet_train, target_train]))
val_dataloader = dict(dataset=dict(dataset=[_base_.imagenet_val, target_test]))
test_dataloader = dict(
    dataset=dict(dataset=[_base_.imagenet_val, target_test]))
