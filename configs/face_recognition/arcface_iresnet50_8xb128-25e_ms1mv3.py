# ArcFace IResNet-50 on MS1MV3, arcface_torch's ms1mv3_r50 recipe: 8
# processes of 128, lr 0.2, weight decay 5e-4, 25 epochs with a 2-epoch
# linear warm-up, then polynomial decay (power 2).
_base_ = [
    '../_base_/models/arcface_iresnet50.py',
    '../_base_/datasets/ms1mv3_bs128.py',
    '../_base_/schedules/arcface_sgd_warmup-poly_25e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=93431))
default_hooks = dict(
    checkpoint=dict(save_best='verification/agedb_30/accuracy', rule='greater'))
