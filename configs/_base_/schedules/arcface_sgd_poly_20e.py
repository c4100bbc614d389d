# arcface_torch's optimisation: SGD (momentum 0.9, weight decay 5e-4) on
# the backbone and the class centres, lr 0.1 for a total batch of 1,024
# (8 x 128), polynomial decay (power 2) to 0 per iteration, 20 epochs;
# gradient norm of the backbone clipped at 5 (SelectiveClipOptimWrapper
# leaves the class centres out, as arcface_torch does). Validation every
# epoch.
optim_wrapper = dict(
    type='SelectiveClipOptimWrapper',
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=5))
param_scheduler = [
    dict(
        type='PolyLR',
        power=2.0,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=20,
        convert_to_iter_based=True)
]
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
