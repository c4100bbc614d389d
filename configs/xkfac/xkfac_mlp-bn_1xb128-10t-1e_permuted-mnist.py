# XK-FAC on 10 permuted-MNIST tasks: xkfac_mlp-bn_1xb128-10t-1e_permuted-
# fashion-mnist.py with MNIST instead of Fashion-MNIST (same loaders, 10k
# training images per task; the MNIST IDX files, .gz or raw, in data/mnist;
# nothing is downloaded). Task t permutes the 784 pixels with
# np.random.default_rng(t).permutation(784), task 0 = identity.
# The other methods' permuted-MNIST configs change the hook of this one.
_base_ = ['./xkfac_mlp-bn_1xb128-10t-1e_permuted-fashion-mnist.py']

data_root = 'data/mnist'
data_preprocessor = dict(mean=[33.32], std=[78.57])
train_dataloader = dict(
    dataset=dict(type='PermutedMNIST', data_root=data_root))
val_dataloader = dict(dataset=dict(type='PermutedMNIST', data_root=data_root))
test_dataloader = val_dataloader
