# Quick demo: ArcFace on a miniature face-recognition set built from
# scikit-learn's digits (10 "identities", 112x112, written in insightface's
# RecordIO and .bin formats into data/cache/digits_faces on first use), a
# narrow IResNet-18 (base width 8, 128-d embedding), 10 epochs of 23 steps
# of 64 images (230 steps), SGD lr 0.1 with polynomial decay; verification
# on 300 held-out pairs after every 2 epochs (10-fold accuracy).
_base_ = [
    '../_base_/models/arcface_iresnet50.py',
    '../_base_/datasets/digits_faces_bs64.py',
    '../_base_/schedules/arcface_sgd_poly_20e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(depth=18, base_channels=8, embed_dims=128),
    head=dict(num_classes=10, in_channels=128))
param_scheduler = [
    dict(
        type='PolyLR',
        power=2.0,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=10, val_interval=2)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(logger=dict(interval=10))
randomness = dict(seed=0, deterministic=True)
