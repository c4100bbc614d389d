# Masked face recognition, the full reconstructed method: IResNet-50 with
# the ComplementaryAttention neck (partition into face, mask and background
# at the 14x14 stage, mask and background focus supervised), ArcFace on
# MS1MV3 with synthetic masks on half of the images, arcface_torch's
# ms1mv3_r50 recipe (8 x 128, lr 0.2, weight decay 5e-4, 25 epochs, 2 of
# warm-up). Validation: LFW, AgeDB-30, CALFW, CPLFW plain and masked; test:
# IJB-C (the *_masked-ijbc.py and *_mfr.py configs test masked faces).
_base_ = [
    '../_base_/models/mfsa_iresnet50.py',
    '../_base_/datasets/ms1mv3_masked_bs128.py',
    '../_base_/schedules/arcface_sgd_warmup-poly_25e.py',
    '../_base_/default_runtime.py',
]

model = dict(head=dict(num_classes=93431))
default_hooks = dict(
    checkpoint=dict(
        save_best='verification/agedb_30_masked/accuracy', rule='greater'))
