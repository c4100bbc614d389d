# Copyright (c) mmdl contributors. All rights reserved.
import sys
import textwrap

import mmengine.registry as mmengine_registry
import pytest
from conftest import run_tool
from mmengine.registry import DefaultScope

import mmdl.registry as mmdl_registry

# mmdl registry name -> mmengine root it must be parented on
PAIRS = {
    'RUNNERS': 'RUNNERS',
    'RUNNER_CONSTRUCTORS': 'RUNNER_CONSTRUCTORS',
    'LOOPS': 'LOOPS',
    'HOOKS': 'HOOKS',
    'LOG_PROCESSORS': 'LOG_PROCESSORS',
    'OPTIMIZERS': 'OPTIMIZERS',
    'OPTIM_WRAPPERS': 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS': 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS': 'PARAM_SCHEDULERS',
    'DATASETS': 'DATASETS',
    'DATA_SAMPLERS': 'DATA_SAMPLERS',
    'TRANSFORMS': 'TRANSFORMS',
    'MODELS': 'MODELS',
    'MODEL_WRAPPERS': 'MODEL_WRAPPERS',
    'WEIGHT_INITIALIZERS': 'WEIGHT_INITIALIZERS',
    'TASK_UTILS': 'TASK_UTILS',
    'METRICS': 'METRICS',
    'EVALUATORS': 'EVALUATOR',
    'VISUALIZERS': 'VISUALIZERS',
    'VISBACKENDS': 'VISBACKENDS',
    'INFERENCERS': 'INFERENCERS',
    'FUNCTIONS': 'FUNCTIONS',
}


@pytest.mark.parametrize('name,root', sorted(PAIRS.items()))
def test_registry_is_mmdl_child_of_mmengine_root(name, root):
    registry = getattr(mmdl_registry, name)
    assert registry.scope == 'mmdl'
    assert registry.parent is getattr(mmengine_registry, root)
    assert registry.parent.children['mmdl'] is registry
    assert registry._locations, f'{name} has no locations'


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
        from mmdl.registry import DATASETS, HOOKS, MODEL_WRAPPERS, RUNNERS
        assert 'mmdl.datasets' not in sys.modules
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
