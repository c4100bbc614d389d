# Source model for the Tiny-ImageNet -> CUB / Flowers-102 configs: ResNet-50
# on Tiny-ImageNet 56x56 crops, SGD (lr 0.1, momentum 0.9, weight decay
# 5e-4) with cosine decay over 100 epochs. The DTL configs load
# work_dirs/pretrain_resnet50_1xb128-100e_tiny-imagenet/epoch_100.pth.
_base_ = [
    '../_base_/models/resnet50_tiny-imagenet.py',
    '../_base_/datasets/tiny_imagenet_bs128.py',
    '../_base_/schedules/sgd_40e.py',
    '../_base_/default_runtime.py',
]

optim_wrapper = dict(optimizer=dict(lr=0.1))
param_scheduler = dict(T_max=100, end=100)
train_cfg = dict(max_epochs=100, val_interval=5)
auto_scale_lr = dict(base_batch_size=128)
