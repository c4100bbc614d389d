# Quick demo, baseline: mean-IMM (Lee et al., NeurIPS 2017) as ResCL's
# combination frozen at (a_s, a_t) = (-1/2, +1/2): task 1 fine-tunes the
# target copy for all its 10 epochs and the mean of the two networks
# (batch norms folded) is merged without a combination stage.
_base_ = ['./rescl_mlp-bn_1xb32-2t_permuted-digits_quick.py']

custom_hooks = [dict(type='ResCLHook', finetune_epochs=10)]
