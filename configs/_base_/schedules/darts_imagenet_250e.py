# Training a DARTS evaluation network on ImageNet (DARTS'
# `train_imagenet.py`): SGD lr 0.1, momentum 0.9, weight decay 3e-5,
# gradient norm clipped at 5, batch 128 in all, 250 epochs, lr x0.97 after
# every epoch.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=3e-5),
    clip_grad=dict(max_norm=5))
param_scheduler = dict(
    type='ExponentialLR', gamma=0.97, by_epoch=True, begin=0, end=250)
train_cfg = dict(by_epoch=True, max_epochs=250, val_interval=10)
val_cfg = dict()
test_cfg = dict()
# lr scaling for --auto-scale-lr: DARTS' lr 0.1 goes with a total batch of
# 128 (one process of 128 in its code)
auto_scale_lr = dict(base_batch_size=128)
