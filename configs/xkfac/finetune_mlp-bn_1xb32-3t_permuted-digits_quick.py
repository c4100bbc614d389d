# Quick demo: plain fine-tuning (no penalty) on 3 permuted-digits tasks.
_base_ = ['./xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py']

custom_hooks = []
