# Split Fashion-MNIST (Debian package dataset-fashion-mnist, IDX files in
# /usr/share/datasets/fashion-mnist): task t holds classes 2t and 2t+1,
# relabelled 0/1 for a head per task (task-incremental learning).
_base_ = ['./permuted_fashion-mnist_bs128.py']

train_dataloader = dict(
    dataset=dict(type='SplitFashionMNIST', relabel=True))
val_dataloader = dict(dataset=dict(type='SplitFashionMNIST', relabel=True))
test_dataloader = val_dataloader
