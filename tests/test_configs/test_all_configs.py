# Copyright (c) mmdl contributors. All rights reserved.
"""Every config in configs/ parses, names registered components and follows
the scope-prefix rule of the README ("Configs")."""
import glob
import os.path as osp
from typing import Any, List, Mapping, Optional, Sequence

import mmpretrain.registry as mmpretrain_registry
import pytest
from mmengine.config import Config
from mmengine.registry import Registry

import mmdl.registry as mmdl_registry
from conftest import REPO_ROOT
from mmdl.utils import check_types
from mmdl.utils.config_checks import iter_items

REGISTRIES = [
    r for module in (mmdl_registry, mmpretrain_registry)
    for r in vars(module).values() if isinstance(r, Registry)
]


def _registered(name):
    for registry in REGISTRIES:
        try:
            if registry.get(name) is not None:
                return True
        except Exception:  # noqa: BLE001  (a lookup may raise in a scope)
            continue
    return False


CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_parses(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdl'
    check_types(cfg)  # every type resolves as the build will
    assert cfg.runner_type == 'mmdl.MMDLRunner'
    assert 'model' in cfg and 'train_dataloader' in cfg
    types = {
        v
        for p, v in iter_items(cfg._cfg_dict)
        if p.split('.')[-1] in ('type', 'runner_type') and isinstance(v, str)
    }
    assert types
    unknown = sorted(t for t in types if not _registered(t))
    assert not unknown, f'unregistered types in {path}: {unknown}'


def test_permuted_mnist_inherits_fashion_loaders():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'xkfac',
                 'xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py'))
    assert cfg.train_dataloader.dataset.type == 'PermutedMNIST'
    assert cfg.val_dataloader.dataset.data_root == 'data/mnist'
    assert cfg.data_preprocessor.mean == [33.32]
    assert cfg.train_dataloader.dataset.indices == 10000


# --- the scope-prefix rule -------------------------------------------------
# A `type` carries a scope prefix exactly when the component is not found
# without it from the scope in force where the component is built. The
# scope in force is `default_scope` at the top level, the `_scope_` of the
# dict or of its nearest ancestor with one, and 'mmdl' for what mmdl
# components build in their own scope (plugin cfgs of the stage-plugin
# backbones, the wrapped backbone of PluggedBackbone; see
# mmdl/models/utils/plugin_insertion.py). `runner_type` is built before any
# default scope is set, in mmengine's root registry.

#: mmdl's registries by name; lookups in another scope go through them.
MMDL_REGISTRIES = {
    name: r
    for name, r in vars(mmdl_registry).items() if isinstance(r, Registry)
}
#: Registries that build the `type` of a dict, by the key holding it.
KEY_KINDS = dict(
    model=('MODELS', ),
    backbone=('MODELS', ),
    neck=('MODELS', ),
    head=('MODELS', ),
    loss=('MODELS', ),
    data_preprocessor=('MODELS', ),
    cfg=('MODELS', ),
    dataset=('DATASETS', ),
    datasets=('DATASETS', ),
    pipeline=('TRANSFORMS', ),
    transforms=('TRANSFORMS', ),
    sampler=('DATA_SAMPLERS', ),
    batch_sampler=('DATA_SAMPLERS', ),
    collate_fn=('FUNCTIONS', ),
    prepare=('FUNCTIONS', ),
    val_evaluator=('METRICS', 'EVALUATORS'),
    test_evaluator=('METRICS', 'EVALUATORS'),
    optim_wrapper=('OPTIM_WRAPPERS', ),
    optimizer=('OPTIMIZERS', ),
    param_scheduler=('PARAM_SCHEDULERS', ),
    default_hooks=('HOOKS', ),
    custom_hooks=('HOOKS', ),
    regularizer=('REGULARIZERS', ),
    visualizer=('VISUALIZERS', ),
    vis_backends=('VISBACKENDS', ),
    init_cfg=('WEIGHT_INITIALIZERS', ),
    model_wrapper_cfg=('MODEL_WRAPPERS', ),
    log_processor=('LOG_PROCESSORS', ),
)
#: Top-level keys only (a model's own train_cfg is no loop).
TOP_KEY_KINDS = dict(
    train_cfg=('LOOPS', ), val_cfg=('LOOPS', ), test_cfg=('LOOPS', ))
#: Stage-plugin backbones (their `plugins[i].cfg` is built in 'mmdl').
PLUGIN_HOSTS = ('PreActResNet', 'PreActResNetImageNet', 'WideResNet',
                'PluggedBackbone')


def _registry_in(kind: str, scope: str) -> Optional[Registry]:
    registry = MMDL_REGISTRIES.get(kind)
    if registry is None:
        return None
    if scope == 'mmdl':
        return registry
    with registry.switch_scope_and_registry(scope) as found:
        return found if found.scope == scope else None


def _scope_problem(name: str, kinds: Sequence[str],
                   scope: str) -> Optional[str]:
    """Why ``type=name`` breaks the rule in ``scope``; None if it does not.

    Args:
        name (str): The ``type`` string.
        kinds (Sequence[str]): Registry names that may build it.
        scope (str): The scope in force.
    """
    for kind in kinds:
        registry = _registry_in(kind, scope)
        if registry is None:
            continue
        found = registry.get(name)
        if found is None:
            continue
        prefix, _, short = name.rpartition('.')
        if prefix and registry.get(short) is found:
            return (f"{name!r} needs no prefix in scope {scope!r}: write "
                    f"{short!r}")
        return None
    return f'{name!r} is not found in scope {scope!r} ({", ".join(kinds)})'


def scope_rule_violations(cfg: Mapping) -> List[str]:
    """Every ``type`` of a resolved config that breaks the scope rule.

    Args:
        cfg (Mapping): The config as a plain dict.

    Returns:
        list[str]: ``'<key path>: <problem>'`` for each violation.
    """
    problems: List[str] = []
    all_kinds = tuple(sorted(MMDL_REGISTRIES))

    def walk(node: Any, scope: str, kinds: Sequence[str], path: str,
             child_scopes: Mapping[str, str]) -> None:
        if isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, scope, kinds, f'{path}.{i}', child_scopes)
            return
        if not isinstance(node, Mapping):
            return
        scope = node.get('_scope_', scope)
        name = node.get('type')
        own_child_scopes = dict(child_scopes)
        if isinstance(name, str):
            problem = _scope_problem(name, kinds, scope)
            if problem:
                problems.append(f'{path}: {problem}')
            short = name.rpartition('.')[2]
            own_child_scopes = {}
            if short in PLUGIN_HOSTS:
                own_child_scopes['plugins'] = 'mmdl'
            if short == 'PluggedBackbone':
                own_child_scopes['backbone'] = 'mmdl'
        for key, value in node.items():
            if key in ('type', '_scope_'):
                continue
            # default_hooks names its hooks: the names are no registry keys
            child_kinds = kinds if path == 'default_hooks' else KEY_KINDS.get(
                key, kinds)
            walk(value, own_child_scopes.get(key, scope), child_kinds,
                 f'{path}.{key}', {})

    top_scope = cfg.get('default_scope')
    for key, value in cfg.items():
        if key == 'runner_type' and isinstance(value, str):
            problem = _scope_problem(value, ('RUNNERS', ), 'mmengine')
            if problem:
                problems.append(f'runner_type: {problem}')
            continue
        kinds = TOP_KEY_KINDS.get(key) or KEY_KINDS.get(key, all_kinds)
        walk(value, top_scope, kinds, key, {})
    return problems


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_follows_scope_rule(path):
    cfg = Config.fromfile(path)._cfg_dict.to_dict()
    problems = scope_rule_violations(cfg)
    assert not problems, '\n'.join(problems)


def test_scope_rule_check_finds_violations():
    cfg = dict(
        default_scope='mmdl',
        runner_type='MMDLRunner',  # built in mmengine's root: needs mmdl.
        model=dict(
            type='ImageClassifier',
            _scope_='mmpretrain',
            backbone=dict(
                type='mmdl.PreActResNet',  # needed inside mmpretrain
                plugins=[
                    dict(cfg=dict(type='ScaledNonLocal2d')),  # mmdl scope
                    dict(cfg=dict(type='mmdl.ScaledNonLocal2d')),  # redundant
                ]),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),  # redundant
            head=dict(type='LinearClsHead')),
        train_dataloader=dict(
            dataset=dict(
                type='mmdl.DigitsDataset',  # redundant at the top level
                pipeline=[
                    dict(type='PackInputs'),  # mmpretrain's: needs a prefix
                    dict(type='mmpretrain.PackInputs'),
                    dict(type='RandomFlip'),  # mmcv's, in mmengine's root
                    dict(type='mmpretrain.RandomFlip'),  # found without it
                ]),
            sampler=dict(type='DefaultSampler')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(
            param_scheduler=dict(type='ParamSchedulerHook'),
            visualization=dict(type='mmpretrain.VisualizationHook')),
        custom_hooks=[dict(type='mmdl.EpochSeedHook')],  # redundant
    )
    problems = scope_rule_violations(cfg)
    where = sorted(p.split(':')[0] for p in problems)
    assert where == [
        'custom_hooks.0', 'model.backbone.plugins.1.cfg', 'model.neck',
        'runner_type', 'train_dataloader.dataset',
        'train_dataloader.dataset.pipeline.0',
        'train_dataloader.dataset.pipeline.3'
    ], problems
    cfg['runner_type'] = 'mmdl.MMDLRunner'
    assert 'runner_type' not in ' '.join(scope_rule_violations(cfg))
