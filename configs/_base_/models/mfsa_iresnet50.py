# Masked face recognition with multi-focal spatial attention and
# complementary attention learning (Cho et al., FG 2023; the module is a
# reconstruction, see configs/masked_face/README.md): the ArcFace IResNet-50
# of arcface_iresnet50.py as mmdl's MaskedFaceRecognizer, whose
# ComplementaryAttention neck refines the output of IResNet stage 3
# (0-based index 2, 14x14) inside the backbone: partition of each location
# into face, mask and background (softmax), the features multiplied by the
# face map, the mask map supervised with the synthetic mask segmentation
# and the background map with the region outside a face ellipse (binary KL,
# weights 1). The ablations of configs/masked_face set `focus`, `mode` and
# `stages`; the train pipeline must carry the segmentation (RandomFaceMask).
_base_ = ['./arcface_iresnet50.py']

model = dict(
    type='MaskedFaceRecognizer',
    neck=dict(
        _delete_=True,
        type='ComplementaryAttention',
        stages=(2, ),
        mode='partition',
        focus=('mask', 'background'),
        refine='multiply',
        hidden_channels=8,
        kernel_size=7,
        loss_mask=1.0,
        loss_background=1.0,
        loss_complementarity=1.0),
)
