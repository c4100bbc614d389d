# Disposable transfer learning, Tiny-ImageNet -> CUB-200-2011 with
# ResNet-50 at 56x56 (GCLoss defaults, lambda 1 with a one-epoch warm-up,
# K = 2 source mini-batches of 32), 30 epochs; tools/test.py runs the
# piggyback-learning test (10% of Tiny-ImageNet, Flowers-102). Not run
# here (no data and no GPU on the machine the README's numbers come from).
_base_ = [
    '../_base_/models/dtl_resnet50_tiny-imagenet.py',
    '../_base_/datasets/tiny-imagenet_to_cub_bs64.py',
    '../_base_/schedules/dtl_sgd_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # 94 target batches per epoch (5,994 CUB training images)
    warmup_iters=94,
    source_checkpoint='work_dirs/pretrain_resnet50_1xb128-100e_tiny-imagenet'
    '/epoch_100.pth')
train_cfg = dict(paired_dataloaders=dict(source={{_base_.source_dataloader}}))
test_cfg = dict(tasks={{_base_.piggyback_tasks}})
auto_scale_lr = dict(base_batch_size=64)
