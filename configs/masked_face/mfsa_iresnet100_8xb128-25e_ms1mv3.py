# The full method on IResNet-100, MS1MV3, arcface_torch's ms1mv3_r100
# recipe: as the IResNet-50 config without the warm-up.
_base_ = [
    '../_base_/models/mfsa_iresnet50.py',
    '../_base_/datasets/ms1mv3_masked_bs128.py',
    '../_base_/schedules/arcface_sgd_poly_25e.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(depth=100), head=dict(num_classes=93431))
default_hooks = dict(
    checkpoint=dict(
        save_best='verification/agedb_30_masked/accuracy', rule='greater'))
