# Quick demo, stage 1: pre-train the source model, a BN MLP on digits 0-4
# (the source task), SGD with cosine decay, 30 epochs. The DTL quick configs
# load its last checkpoint,
# work_dirs/pretrain_mlp-bn_1xb64-30e_digits-0-4_quick/epoch_30.pth.
_base_ = [
    '../_base_/models/mlp_bn_digits.py',
    '../_base_/datasets/digits_0-4_to_5-9.py',
    '../_base_/schedules/sgd_40e.py',
    '../_base_/default_runtime.py',
]

model = dict(type='ImageClassifier', head=dict(num_classes=5))
train_dataloader = {{_base_.source_dataloader}}
val_dataloader = dict(dataset={{_base_.source_test}})
test_dataloader = val_dataloader
param_scheduler = dict(T_max=30, end=30)
train_cfg = dict(max_epochs=30, val_interval=10)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(logger=dict(interval=10))
randomness = dict(seed=0, deterministic=True)
