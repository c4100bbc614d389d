# Training a DARTS evaluation network on CIFAR (DARTS' `train.py`): SGD lr
# 0.025, momentum 0.9, weight decay 3e-4, gradient norm clipped at 5,
# batch 96 on one process, 600 epochs, cosine annealing to 0 by epoch.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.025, momentum=0.9, weight_decay=3e-4),
    clip_grad=dict(max_norm=5))
# `end` is explicit: mmengine otherwise sets it to max_epochs and stores it
# in the checkpoint, so a run resumed with a larger max_epochs would keep
# the old end and stop decaying.
param_scheduler = dict(
    type='CosineAnnealingLR',
    T_max=600,
    eta_min=0.0,
    by_epoch=True,
    begin=0,
    end=600)
train_cfg = dict(by_epoch=True, max_epochs=600, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# lr scaling for --auto-scale-lr: the recipe uses 1 process x batch 96
auto_scale_lr = dict(base_batch_size=96)
