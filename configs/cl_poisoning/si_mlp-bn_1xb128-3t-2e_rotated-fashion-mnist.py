# The si victim of si_mlp-bn_1xb128-3t-2e_permuted-fashion-mnist.py on
# 3 rotated Fashion-MNIST tasks (0, 40 and 80 degrees).
_base_ = ['./si_mlp-bn_1xb128-3t-2e_permuted-fashion-mnist.py']

angles = (0.0, 40.0, 80.0)
train_dataloader = dict(
    dataset=dict(type='RotatedFashionMNIST', angles=angles))
val_dataloader = dict(
    dataset=dict(type='RotatedFashionMNIST', angles=angles))
test_dataloader = val_dataloader
