# ResCL (Lee et al., AAAI 2020): the wrapper's settings (the defaults of
# configs/rescl/README.md's Reconstructions table) and the stage hook. A
# leaf wraps its classifier:
#   model = dict(_delete_=True, **_base_.rescl_model,
#                classifier=_base_.model, input_shape=(C, H, W))
# adds custom_hooks = [dict(type='ResCLHook', finetune_epochs=E)] (the
# rest of each task's epochs train the combination) and sets the
# optimiser's weight_decay to 0: the wrapper adds lambda_dec itself (and
# takes no optim_wrapper.paramwise_cfg).
rescl_model = dict(
    type='ResCLWrapper',
    l1_weight=1e-4,  # lambda: the source/target trade-off
    weight_decay=1e-6,  # lambda_dec on the trained network's weights
    l1_mode='subgradient',
    temperature=2.0,
    soft_targets='recorded',
    target_norm='train',
    train_target=True,
    alpha_init=(-0.5, 0.5))
