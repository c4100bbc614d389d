# ArcFace IResNet-100 on MS1MV3, arcface_torch's ms1mv3_r100 recipe: lr
# 0.2, weight decay 5e-4, 25 epochs, no warm-up, polynomial decay.
_base_ = [
    '../_base_/models/arcface_iresnet50.py',
    '../_base_/datasets/ms1mv3_bs128.py',
    '../_base_/schedules/arcface_sgd_poly_25e.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(depth=100), head=dict(num_classes=93431))
default_hooks = dict(
    checkpoint=dict(save_best='verification/agedb_30/accuracy', rule='greater'))
