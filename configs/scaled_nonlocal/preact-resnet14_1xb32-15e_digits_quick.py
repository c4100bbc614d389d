# Quick demo baseline: the same pre-activation ResNet-14 on the bundled
# digits without a non-local block.
_base_ = ['./snl-h4_preact-resnet14_1xb32-15e_digits_quick.py']

model = dict(backbone=dict(plugins=[]))
