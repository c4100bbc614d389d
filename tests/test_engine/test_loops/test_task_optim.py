# Copyright (c) mmdl contributors. All rights reserved.
"""Per-task optimiser configs: the merge of ``task_cfgs`` overrides and
the schedulers' defaults, against hand-written expected configs."""
import pytest
from toy_tasks import FakeRunner

from mmdl.engine.loops.task_optim import (TaskOptimization, merge_optim_cfg,
                                          scheduler_types)


def _plain(cfg):
    """Nested dicts (ConfigDicts included) as plain dicts."""
    if isinstance(cfg, dict):
        return {k: _plain(v) for k, v in cfg.items()}
    return cfg


def test_merge_optim_cfg():
    base = dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9),
        clip_grad=None,
        paramwise_cfg=dict(custom_keys={'backbone.layer1': dict(lr_mult=0)}))
    merged = merge_optim_cfg(
        base,
        dict(
            optimizer=dict(lr=0.01),
            clip_grad=dict(max_norm=1.0),
            paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=2)})))
    assert _plain(merged) == dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
        clip_grad=dict(max_norm=1.0),
        paramwise_cfg=dict(custom_keys={
            'backbone.layer1': dict(lr_mult=0),
            'head': dict(lr_mult=2)
        }))
    # the base is untouched
    assert base['optimizer']['lr'] == 0.1 and base['clip_grad'] is None
    assert list(base['paramwise_cfg']['custom_keys']) == ['backbone.layer1']
    # keys keep the base's order, new ones come last
    assert list(merged) == ['optimizer', 'clip_grad', 'paramwise_cfg']
    # _delete_ replaces a dict, a non-dict value replaces anything
    replaced = merge_optim_cfg(
        base,
        dict(
            optimizer=dict(_delete_=True, type='Adam', lr=1e-3),
            clip_grad=None,
            accumulative_counts=2))
    assert _plain(replaced)['optimizer'] == dict(type='Adam', lr=1e-3)
    assert replaced['clip_grad'] is None
    assert replaced['accumulative_counts'] == 2
    assert _plain(merge_optim_cfg(base, None)) == base


def test_scheduler_cfg_counts_the_task():
    runner = FakeRunner()
    optim = TaskOptimization(runner, [3, 1, 2])
    cfg = optim.scheduler_cfg([
        dict(type='LinearLR', by_epoch=False, begin=0),
        dict(type='MultiStepLR', milestones=[1]),
        dict(type='ConstantLR', end=1)
    ],
                              0,
                              epoch_length=7)
    # iterations of task 0 (3 epochs x 7), its epochs, or as given
    assert [c.get('end') for c in cfg] == [3 * 7, 3, 1]
    per_optimizer = optim.scheduler_cfg(
        dict(a=dict(type='StepLR'), b=[dict(type='StepLR')]), 2, 7)
    assert per_optimizer['a']['end'] == 2 and per_optimizer['b'][0]['end'] == 2


def test_task_cfgs_checks():
    runner = FakeRunner()
    with pytest.raises(ValueError, match='entries'):
        TaskOptimization(runner, [1, 1], [None])
    with pytest.raises(ValueError, match='unknown keys'):
        TaskOptimization(runner, [1], [dict(optimizer=dict(lr=1))])
    with pytest.raises(ValueError, match='same scheduler types'):
        TaskOptimization(
            runner, [1, 1],
            [None, dict(param_scheduler=[dict(type='LinearLR')])])
    # same types, other arguments: fine
    optim = TaskOptimization(
        runner, [1, 1],
        [None,
         dict(param_scheduler=dict(type='MultiStepLR', milestones=[3]))])
    assert optim.sched_cfg == dict(type='MultiStepLR', milestones=[1])
    assert scheduler_types(
        dict(a=[dict(type='StepLR')], b=dict(type='LinearLR'))) == dict(
            a=['StepLR'], b=['LinearLR'])
