# The full method on IResNet-50, MS1MV2 with synthetic masks,
# arcface_torch's ms1mv2_r50 recipe: 8 x 128, lr 0.1, weight decay 1e-4,
# 20 epochs of polynomial decay.
_base_ = [
    '../_base_/models/mfsa_iresnet50.py',
    '../_base_/datasets/ms1mv2_masked_bs128.py',
    '../_base_/schedules/arcface_sgd_poly_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=85742))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
default_hooks = dict(
    checkpoint=dict(
        save_best='verification/agedb_30_masked/accuracy', rule='greater'))
