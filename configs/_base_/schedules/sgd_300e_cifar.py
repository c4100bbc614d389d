# Training recipe of the official ScaledNonLocal code (Cho et al., ICIP
# 2022): SGD lr 0.1, momentum 0.9, weight decay 5e-4, batch 128 on one
# process, 300 epochs, lr x0.1 at epochs 150 and 225.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR',
    by_epoch=True,
    milestones=[150, 225],
    gamma=0.1,
    begin=0,
    end=300)
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
