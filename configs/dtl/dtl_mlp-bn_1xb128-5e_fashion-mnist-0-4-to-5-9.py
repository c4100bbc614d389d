# Reproduction, stage 2: disposable transfer learning (GCLoss, lambda 1
# with a one-epoch warm-up, K = 2 source mini-batches of 64) from the
# Fashion-MNIST 0-4 source model to classes 5-9, 5 epochs of SGD with
# cosine decay. `tools/test.py` runs the piggyback-learning test: full
# fine-tuning and linear probe for 30 epochs on 10% of the source training
# set and on digits, 3 seeds, with the pre-trained and random references.
# The baselines inherit from this file.
_base_ = [
    '../_base_/models/dtl_mlp-bn_fashion-mnist.py',
    '../_base_/datasets/fashion-mnist_0-4_to_5-9.py',
    '../_base_/schedules/dtl_sgd_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # 235 target batches per epoch: lambda ramps up over the first epoch
    warmup_iters=235,
    source_checkpoint='work_dirs/pretrain_mlp-bn_1xb128-10e_fashion-mnist-'
    '0-4/epoch_10.pth')
optim_wrapper = dict(optimizer=dict(lr=0.02))
param_scheduler = dict(T_max=5, end=5)
train_cfg = dict(
    max_epochs=5,
    val_interval=5,
    paired_dataloaders=dict(source={{_base_.source_dataloader}}))
test_cfg = dict(tasks={{_base_.piggyback_tasks}})
auto_scale_lr = dict(base_batch_size=128)
randomness = dict(seed=0, deterministic=True)
