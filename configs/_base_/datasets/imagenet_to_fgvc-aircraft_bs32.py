# ImageNet-1k -> FGVC-Aircraft (100 variants): imagenet_to_cub_bs32.py with
# mmpretrain's FGVCAircraft as task 1, trained on 'trainval' (train + val,
# 6,667 images) and tested on 'test' (3,333), the usual protocol.
# Data: data/fgvc-aircraft-2013b, the original archive: data/images/*.jpg,
# data/images_variant_{trainval,test}.txt.
_base_ = ['./imagenet_to_cub_bs32.py']

target_root = 'data/fgvc-aircraft-2013b'
target_train = dict(
    type='mmpretrain.FGVCAircraft', data_root=target_root, split='trainval')
target_test = dict(
    type='mmpretrain.FGVCAircraft', data_root=target_root, split='test')

train_dataloader = dict(
    dataset=dict(dataset=[_base_.imagenet_train, target_train]))
val_dataloader = dict(dataset=dict(dataset=[_base_.imagenet_val, target_test]))
test_dataloader = dict(
    dataset=dict(dataset=[_base_.imagenet_val, target_test]))
