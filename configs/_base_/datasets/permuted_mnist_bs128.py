# Permuted MNIST (IDX files, .gz or raw, in data/mnist; nothing is
# downloaded): task t permutes the 784 pixels with
# np.random.default_rng(t).permutation(784), task 0 = identity. Same
# loaders as permuted Fashion-MNIST.
_base_ = ['./permuted_fashion-mnist_bs128.py']

data_root = 'data/mnist'
data_preprocessor = dict(mean=[33.32], std=[78.57])
train_dataloader = dict(
    dataset=dict(type='PermutedMNIST', data_root=data_root))
val_dataloader = dict(dataset=dict(type='PermutedMNIST', data_root=data_root))
test_dataloader = val_dataloader
