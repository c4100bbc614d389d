# Reproduction, stage 1: pre-train the source model, a BN MLP (784-400-400,
# mmdl.MLP) on
# Fashion-MNIST classes 0-4, SGD (lr 0.05, momentum 0.9, weight decay 5e-4)
# with cosine decay over 10 epochs. The Fashion-MNIST DTL configs load
# work_dirs/pretrain_mlp-bn_1xb128-10e_fashion-mnist-0-4/epoch_10.pth.
_base_ = [
    '../_base_/models/mlp_bn_mnist.py',
    '../_base_/datasets/fashion-mnist_0-4_to_5-9.py',
    '../_base_/schedules/sgd_40e.py',
    '../_base_/default_runtime.py',
]

train_dataloader = {{_base_.source_dataloader}}
val_dataloader = dict(dataset={{_base_.source_test}})
test_dataloader = val_dataloader
model = dict(type='ImageClassifier', head=dict(num_classes=5))
param_scheduler = dict(T_max=10, end=10)
train_cfg = dict(max_epochs=10, val_interval=5)
auto_scale_lr = dict(base_batch_size=128)
randomness = dict(seed=0, deterministic=True)
