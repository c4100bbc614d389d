# Copyright (c) mmdl contributors. All rights reserved.
import importlib
import sys
import textwrap

import mmengine.registry as mmengine_registry
import pytest
from conftest import run_tool
from mmengine.registry import DefaultScope

import mmdl.registry as mmdl_registry

REGULARIZER_NAMES = ('EWCRegularizer', 'KFACRegularizer', 'XKFACRegularizer',
                     'L2Regularizer', 'L2SPRegularizer')


def test_registry_locations_import():
    """Each node's ``locations`` name importable modules (a typo would
    only show as an unregistered component at build time)."""
    for name in mmdl_registry.__all__:
        registry = getattr(mmdl_registry, name)
        assert registry.scope == 'mmdl', name
        assert registry._locations, f'{name} has no locations'
        for location in registry._locations:
            importlib.import_module(location)


def test_every_mmengine_root_has_an_mmdl_child():
    roots = {
        value
        for value in vars(mmengine_registry.root).values()
        if isinstance(value, mmengine_registry.Registry)
    }
    missing = [r.name for r in roots if 'mmdl' not in r.children]
    # STRATEGIES is the only root mmdl does not extend (mmengine's
    # FlexibleRunner strategies).
    assert sorted(missing) == ['strategy']


def test_lazy_registration_through_locations():
    """A fresh interpreter finds mmdl components through the registries'
    locations alone, without importing the implementing modules."""
    code = textwrap.dedent("""
        import sys
        from mmdl.registry import (DATASETS, HOOKS, MODEL_WRAPPERS,
                                   REGULARIZERS, RUNNERS)
        assert 'mmdl.datasets' not in sys.modules
        assert REGULARIZERS.get('L2SPRegularizer').__name__ == \
            'L2SPRegularizer'
        assert DATASETS.get('DigitsDataset').__name__ == 'DigitsDataset'
        assert HOOKS.get('EpochSeedHook').__name__ == 'EpochSeedHook'
        assert RUNNERS.get('MMDLRunner').__name__ == 'MMDLRunner'
        wrapper = MODEL_WRAPPERS.get('DelegatingDistributedDataParallel')
        assert wrapper.__name__ == 'DelegatingDistributedDataParallel'
        # an mmengine component through the parent
        assert HOOKS.get('CheckpointHook').__module__.startswith('mmengine')
        print('ok')
    """)
    result = run_tool([sys.executable, '-c', code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith('ok')


def test_default_scope_mmdl_builds_unprefixed_and_prefixed():
    from mmengine.registry import DATASETS as ROOT_DATASETS
    with DefaultScope.overwrite_default_scope('mmdl'):
        dataset = ROOT_DATASETS.build(
            dict(
                type='DigitsDataset',
                split='test',
                pipeline=[dict(type='mmpretrain.PackInputs')]))
    assert type(dataset).__name__ == 'DigitsDataset'
    assert dataset[0]['inputs'].shape == (1, 8, 8)


@pytest.mark.parametrize('name', REGULARIZER_NAMES)
def test_regularizers_build_in_mmdl_and_from_another_scope(name):
    from mmdl.continual import regularizers
    from mmdl.registry import REGULARIZERS
    cls = getattr(regularizers, name)
    with DefaultScope.overwrite_default_scope('mmdl'):
        built = REGULARIZERS.build(dict(type=name))
    assert type(built) is cls
    # another project's config names it with the prefix (mmengine warns
    # that its scope has no regulariser registry and uses mmdl's)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        other = REGULARIZERS.build(dict(type=f'mmdl.{name}'))
    assert type(other) is cls


def test_regularizer_arguments_reach_the_instance():
    from mmdl.registry import REGULARIZERS
    with DefaultScope.overwrite_default_scope('mmdl'):
        l2sp = REGULARIZERS.build(
            dict(type='L2SPRegularizer', alpha=0.5, new_params=['head']))
        kfac = REGULARIZERS.build(
            dict(type='XKFACRegularizer', fisher='empirical', max_batches=2))
    assert (l2sp.alpha, l2sp.new_params) == (0.5, ('head', ))
    assert (kfac.fisher, kfac.max_batches) == ('empirical', 2)
    with pytest.raises(KeyError, match='NoSuchRegularizer'):
        with DefaultScope.overwrite_default_scope('mmdl'):
            REGULARIZERS.build(dict(type='NoSuchRegularizer'))


def test_register_all_modules_sets_scope():
    from mmdl.utils import register_all_modules
    DefaultScope._instance_dict.clear()
    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmdl'
    with pytest.warns(UserWarning, match='not "mmdl"'):
        DefaultScope.get_instance('other-project', scope_name='mmpretrain')
        register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmdl'
    DefaultScope._instance_dict.clear()


OUTSIDE_CONFIG = """
default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmdl'], allow_failed_imports=False)
model = dict(
    type='ImageClassifier',
    backbone=dict(type='LeNet5', num_classes=10),
    head=dict(type='ClsHead', loss=dict(type='CrossEntropyLoss')),
    data_preprocessor=dict(num_classes=10, mean=[77.9], std=[95.9],
                           to_rgb=False))
pipeline = [dict(type='Resize', scale=32), dict(type='PackInputs')]
train_dataloader = dict(
    batch_size=64, num_workers=0,
    dataset=dict(type='mmdl.DigitsDataset', split='train', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=0,
    dataset=dict(type='mmdl.DigitsDataset', split='test', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='Accuracy')
optim_wrapper = dict(optimizer=dict(type='Adam', lr=0.003))
train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=3)
val_cfg = dict()
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=3),
    # an mmdl hook inside an mmpretrain-scoped config
    epoch_seed=dict(type='mmdl.EpochSeedHook'))
randomness = dict(seed=0)
"""

RUN_OUTSIDE = """
import sys
from mmengine.config import Config
from mmengine.runner import Runner
cfg = Config.fromfile(sys.argv[1])
cfg.work_dir = sys.argv[2]
runner = Runner.from_cfg(cfg)
dataset = runner.train_dataloader.dataset
assert type(dataset).__module__ == 'mmdl.datasets.digits'
runner.train()
metrics = runner.val_loop.run()
print('ACC', metrics['accuracy/top1'])
"""


def test_config_of_another_project_uses_mmdl_components(tmp_path):
    """An mmpretrain-scoped config outside the repository uses mmdl
    components through custom_imports and the ``mmdl.`` prefix, with
    mmengine's plain Runner, from a directory outside the repository."""
    config = tmp_path / 'other_project_cfg.py'
    config.write_text(OUTSIDE_CONFIG)
    script = tmp_path / 'run.py'
    script.write_text(RUN_OUTSIDE)
    result = run_tool(
        [sys.executable,
         str(script),
         str(config),
         str(tmp_path / 'work')],
        cwd=str(tmp_path),
        env={'PYTHONPATH': ''})
    assert result.returncode == 0, result.stderr[-3000:]
    accuracy = float(result.stdout.split('ACC')[-1])
    assert accuracy > 50.0  # 3 epochs of LeNet-5 learn the digits


def test_custom_imports_failure_is_reported(tmp_path):
    config = tmp_path / 'bad.py'
    config.write_text("custom_imports = dict(imports=['mmdl_missing'], "
                      'allow_failed_imports=False)\n')
    result = run_tool([
        sys.executable, '-c',
        f'from mmengine.config import Config; Config.fromfile({str(config)!r})'
    ])
    assert result.returncode != 0
    assert 'mmdl_missing' in result.stderr
