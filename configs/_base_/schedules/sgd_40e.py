# SGD (lr 0.05, momentum 0.9, weight decay 5e-4), cosine decay over 40
# epochs; tuned for the digits quick start.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
# `end` is explicit: mmengine otherwise sets it to max_epochs and stores it
# in the checkpoint, so a run resumed with a larger max_epochs would keep
# the old end and stop decaying.
param_scheduler = dict(
    type='CosineAnnealingLR', T_max=40, by_epoch=True, begin=0, end=40)
train_cfg = dict(by_epoch=True, max_epochs=40, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# lr scaling for --auto-scale-lr: the recipe uses 1 process x batch 32
auto_scale_lr = dict(base_batch_size=32)
