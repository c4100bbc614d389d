# Disposable transfer learning, Tiny-ImageNet -> Flowers-102 with ResNet-50
# at 56x56 (as the CUB config; CUB is the piggyback test's downstream
# task). Not run here.
_base_ = [
    '../_base_/models/dtl_resnet50_tiny-imagenet.py',
    '../_base_/datasets/tiny-imagenet_to_flowers102_bs64.py',
    '../_base_/schedules/dtl_sgd_30e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    classifier=dict(head=dict(num_classes=102)),
    # 32 target batches per epoch (2,040 Flowers-102 trainval images)
    warmup_iters=32,
    source_checkpoint='work_dirs/pretrain_resnet50_1xb128-100e_tiny-imagenet'
    '/epoch_100.pth')
train_cfg = dict(paired_dataloaders=dict(source={{_base_.source_dataloader}}))
test_cfg = dict(tasks={{_base_.piggyback_tasks}})
auto_scale_lr = dict(base_batch_size=64)
