# ResCL on 2 permuted MNIST tasks (IDX files in data/mnist; nothing is
# downloaded): the permuted Fashion-MNIST config with MNIST's files and
# statistics.
_base_ = ['./rescl_mlp-bn_1xb128-2t-6e_permuted-fashion-mnist.py']

data_root = 'data/mnist'
data_preprocessor = dict(mean=[33.32], std=[78.57])
train_dataloader = dict(
    dataset=dict(type='PermutedMNIST', data_root=data_root))
val_dataloader = dict(dataset=dict(type='PermutedMNIST', data_root=data_root))
test_dataloader = val_dataloader
