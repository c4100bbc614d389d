# Quick demo, stage 2: disposable transfer learning (GCLoss, lambda 1 with
# a one-epoch warm-up, K = 2 source mini-batches of 32) from the digits 0-4
# source model to digits 5-9, 20 epochs; `tools/test.py` on its checkpoint
# runs the piggyback-learning test. Needs the pre-training quick config's
# checkpoint (see source_checkpoint). The baselines inherit from this file.
_base_ = [
    '../_base_/models/dtl_mlp-bn_digits.py',
    '../_base_/datasets/digits_0-4_to_5-9.py',
    '../_base_/schedules/dtl_sgd_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # 12 target batches per epoch: lambda ramps up over the first epoch
    warmup_iters=12,
    source_checkpoint='work_dirs/pretrain_mlp-bn_1xb64-30e_digits-0-4_quick/'
    'epoch_30.pth')
train_cfg = dict(paired_dataloaders=dict(source={{_base_.source_dataloader}}))
test_cfg = dict(tasks={{_base_.piggyback_tasks}})
default_hooks = dict(logger=dict(interval=10))
randomness = dict(seed=0, deterministic=True)
