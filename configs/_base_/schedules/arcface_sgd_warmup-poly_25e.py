# arcface_sgd_poly_25e.py with the first 2 of the 25 epochs a linear
# warm-up (arcface_torch's ms1mv3_r50 recipe).
_base_ = ['./arcface_sgd_poly_25e.py']

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=2,
        convert_to_iter_based=True),
    dict(type='PolyLR', power=2.0, eta_min=0.0, by_epoch=True, begin=2,
         end=25, convert_to_iter_based=True)
]
