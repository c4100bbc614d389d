# ArcFace IResNet-50 on MS1MV2, arcface_torch's ms1mv2_r50 recipe: 8
# processes of 128, lr 0.1, weight decay 1e-4, 20 epochs without warm-up,
# polynomial decay; validation on LFW, CFP-FP, AgeDB-30, test on IJB-C.
_base_ = [
    '../_base_/models/arcface_iresnet50.py',
    '../_base_/datasets/ms1mv2_bs128.py',
    '../_base_/schedules/arcface_sgd_poly_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=85742))
optim_wrapper = dict(optimizer=dict(weight_decay=1e-4))
default_hooks = dict(
    checkpoint=dict(save_best='verification/agedb_30/accuracy', rule='greater'))
