# Runtime settings shared by mmdl configs.
# mmdl components are found unprefixed; mmpretrain ones need the
# `mmpretrain.` prefix or `_scope_='mmpretrain'` (see mmdl/registry.py).
default_scope = 'mmdl'
# mmdl's runner: gloo on CPU-only machines, atomic checkpoints, resume on
# torch >= 2.6, and a DDP wrapper that honours models' own train_step.
runner_type = 'mmdl.MMDLRunner'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # reseed all generators per epoch so that --resume reproduces the
    # uninterrupted run (mmdl.engine.hooks.EpochSeedHook)
    epoch_seed=dict(type='EpochSeedHook'),
    visualization=dict(type='mmpretrain.VisualizationHook', enable=False),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # MMDLRunner switches nccl to gloo on machines without CUDA.
    dist_cfg=dict(backend='nccl'),
)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='mmpretrain.UniversalVisualizer',
                  vis_backends=vis_backends)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
