# Quick demo: the softmax (embedded Gaussian) non-local block at the same
# place as the Scaled Non-Local quick config.
_base_ = ['./snl-h4_preact-resnet14_1xb32-15e_digits_quick.py']

model = dict(
    backbone=dict(plugins=[
        dict(
            cfg=dict(type='ScaledNonLocal2d', normalizer='softmax'),
            stage=1,
            position=-1)
    ]))
