# ArcFace IResNet-100 on MS1MV3, arcface_torch's ms1mv3_r100 recipe: lr
# 0.2, weight decay 5e-4, 25 epochs, no warm-up, polynomial decay.
_base_ = ['./arcface_iresnet50_8xb128-25e_ms1mv3.py']

model = dict(backbone=dict(depth=100))
param_scheduler = [
    dict(
        type='PolyLR',
        power=2.0,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=25,
        convert_to_iter_based=True)
]
