# arcface_torch's MS1MV3 schedule: as arcface_sgd_poly_20e.py with lr 0.2
# for a total batch of 1,024, weight decay 5e-4 and 25 epochs of
# polynomial decay (power 2) to 0 (arcface_sgd_warmup-poly_25e.py adds a
# 2-epoch warm-up).
_base_ = ['./arcface_sgd_poly_20e.py']

optim_wrapper = dict(optimizer=dict(lr=0.2, weight_decay=5e-4))
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
train_cfg = dict(max_epochs=25)
