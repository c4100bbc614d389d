# ArcFace IResNet-50 on MS1MV3, arcface_torch's ms1mv3_r50 recipe: 8
# processes of 128, lr 0.2, weight decay 5e-4, 25 epochs with a 2-epoch
# linear warm-up, then polynomial decay (power 2).
_base_ = [
    '../_base_/models/arcface_iresnet50.py',
    '../_base_/datasets/ms1mv3_bs128.py',
    '../_base_/schedules/arcface_sgd_poly_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=93431))
optim_wrapper = dict(optimizer=dict(lr=0.2, weight_decay=5e-4))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(
        type='PolyLR',
        power=2.0,
        eta_min=0.0,
        by_epoch=True,
        begin=2,
        end=25,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=25)
default_hooks = dict(
    checkpoint=dict(save_best='verification/agedb_30/accuracy', rule='greater'))
