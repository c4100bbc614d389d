# Disposable transfer learning, CIFAR-100 -> CIFAR-10 with ResNet_CIFAR-18
# (GCLoss defaults, lambda 1 with a one-epoch warm-up, K = 2 source
# mini-batches of 64), 30 epochs; tools/test.py runs the piggyback-learning
# test (10% of CIFAR-100, Tiny-ImageNet at 32x32). The baselines inherit
# from this file. Not run here (no CIFAR data and no GPU on the machine the
# README's numbers come from).
_base_ = [
    '../_base_/models/dtl_resnet18_cifar.py',
    '../_base_/datasets/cifar100_to_cifar10_bs128.py',
    '../_base_/schedules/dtl_sgd_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # 391 target batches per epoch: lambda ramps up over the first epoch
    warmup_iters=391,
    source_checkpoint='work_dirs/pretrain_resnet18_1xb128-300e_cifar100/'
    'epoch_300.pth')
train_cfg = dict(paired_dataloaders=dict(source={{_base_.source_dataloader}}))
test_cfg = dict(tasks={{_base_.piggyback_tasks}})
auto_scale_lr = dict(base_batch_size=128)
