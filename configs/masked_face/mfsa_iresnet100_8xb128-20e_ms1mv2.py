# The full method on IResNet-100, MS1MV2, arcface_torch's ms1mv2_r100
# recipe: as the IResNet-50 config with weight decay 5e-4.
_base_ = ['./mfsa_iresnet50_8xb128-20e_ms1mv2.py']

model = dict(backbone=dict(depth=100))
optim_wrapper = dict(optimizer=dict(weight_decay=5e-4))
