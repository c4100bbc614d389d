# Face recognition as insightface's arcface_torch trains it: mmdl's
# FaceRecognizer (an mmpretrain ImageClassifier whose predictions are
# embeddings, fused with the horizontal flip's) on IResNet-50 (112x112
# aligned faces, BN-Dropout-FC-BN head to a 512-d embedding, 43.6M
# parameters) with the combined-margin softmax head in its ArcFace setting
# (margins (1.0, 0.5, 0.0), scale 64). The class centres are sharded over
# the ranks of a distributed run (shard='auto', Partial FC v2); RGB input
# normalised to [-1, 1] ((x / 255 - 0.5) / 0.5). Leaves set num_classes.
model = dict(
    type='FaceRecognizer',
    flip_test=True,
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        to_rgb=True),
    backbone=dict(type='IResNet', depth=50, embed_dims=512, dropout=0.0),
    neck=None,
    head=dict(
        type='CombinedMarginHead',
        num_classes=85742,
        in_channels=512,
        margins=(1.0, 0.5, 0.0),
        scale=64.0,
        sample_rate=1.0,
        shard='auto'),
)
