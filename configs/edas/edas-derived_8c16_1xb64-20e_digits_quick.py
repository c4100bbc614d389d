# Quick demo: train the network derived from the EDAS quick search on
# scikit-learn's digits, the DARTS evaluation protocol in miniature: the
# genotype the search's GenotypeHook wrote to its work dir (run
# configs/edas/edas_search-5c8_1xb64-10e_digits_quick.py first, or pass
# `--cfg-options model.backbone.genotype=DARTS_V2`), 8 cells of 16
# channels (reductions at cells 2 and 5, 256 output channels), drop-path
# 0.2 ramped linearly, images upsampled to 16x16 with random shifts of up
# to 2 pixels, batch 64, SGD lr 0.025 (momentum 0.9, weight decay 3e-4,
# gradient norm clipped at 5), cosine over 20 epochs.
# No auxiliary classifier: DARTS' CIFAR auxiliary classifier (5x5 average
# pooling with stride 3, then a 2x2 convolution) needs a map of at least
# 5x5 (8x8 as designed), but at 16x16 the cell it reads (cell 5, after the
# second reduction) gives 4x4 maps; 32x32 inputs would give 8x8 but make
# the run about 4 times slower (about 10 minutes on one CPU thread).
_base_ = [
    '../_base_/models/darts_20c36_cifar10.py',
    '../_base_/datasets/digits_16x16_bs64.py',
    '../_base_/schedules/darts_sgd_600e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        genotype='work_dirs/edas_search-5c8_1xb64-10e_digits_quick/'
        'genotype.json',
        num_layers=8,
        base_channels=16,
        in_channels=1,
        auxiliary=False),
    head=dict(in_channels=256, aux_in_channels=None))

param_scheduler = dict(T_max=20, end=20)
train_cfg = dict(max_epochs=20, val_interval=10)
auto_scale_lr = dict(base_batch_size=64)
default_hooks = dict(logger=dict(interval=10))
randomness = dict(seed=0, deterministic=True)
