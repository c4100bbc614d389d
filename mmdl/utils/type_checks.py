# Copyright (c) mmdl contributors. All rights reserved.
"""Pre-flight check that every ``type`` of a config names a registered
component, resolved like mmengine's ``Registry.get`` during the build.

The parts of a config whose registry is known (the model, the optimiser
wrapper, the datasets and their pipelines, the hooks, the loops, ...) are
walked with the scope that the build will use: ``default_scope``, changed
for a subtree by its ``_scope_`` key (and by mmdl components that build
some children in the ``'mmdl'`` scope). A name that resolves nowhere is
reported by :func:`~.registry_lookup.unknown_type_message`.
"""
from importlib import import_module
from typing import (Any, Callable, Dict, Iterator, Mapping, NamedTuple,
                    Optional, Sequence)

from .config_checks import ConfigError, _as_mapping
from .registry_lookup import (known_scopes, resolve, root_registries,
                              unknown_type_message)

#: The config keys that :func:`check_types` walks by default.
PARTS = ('runner_type', 'model', 'model_wrapper_cfg', 'train_dataloader',
         'val_dataloader', 'test_dataloader', 'train_cfg', 'val_cfg',
         'test_cfg', 'val_evaluator', 'test_evaluator', 'optim_wrapper',
         'param_scheduler', 'default_hooks', 'custom_hooks', 'visualizer',
         'log_processor')


class _Scope(NamedTuple):
    """A scope name (None: the root) and the config key that set it."""
    name: Optional[str]
    key: str


class _Site(NamedTuple):
    """A ``type`` to resolve: its key, value, scope and registry."""
    path: str
    name: str
    scope: _Scope
    registry: str
    # model subtrees: also accept names of other registries (components
    # build e.g. batch augments from their own registries)
    lenient: bool = False


# ----------------------------------------------------------------------
# the parts of a config and the registries that build them
# ----------------------------------------------------------------------
Walker = Callable[[Any, str, _Scope], Iterator[_Site]]


def _scope_of(node: Any, scope: _Scope, path: str) -> _Scope:
    value = node.get('_scope_') if isinstance(node, Mapping) else None
    return _Scope(value, f'{path}._scope_') if isinstance(value,
                                                          str) else scope


def _typed(node: Any,
           path: str,
           scope: _Scope,
           registry: str,
           lenient: bool = False) -> Iterator[_Site]:
    """The site of a dict built from ``registry``, if its type is a str."""
    if isinstance(node, Mapping) and isinstance(node.get('type'), str):
        yield _Site(f'{path}.type', node['type'], _scope_of(node, scope, path),
                    registry, lenient)


def _each(node: Any, path: str, scope: _Scope,
          registry: str) -> Iterator[_Site]:
    """A dict, or each dict of a list, built from ``registry``."""
    if isinstance(node, (list, tuple)):
        for index, item in enumerate(node):
            yield from _typed(item, f'{path}.{index}', scope, registry)
    else:
        yield from _typed(node, path, scope, registry)


def _mmdl_child_scopes(node: Mapping, scope: _Scope) -> Dict[str, str]:
    """Children that an mmdl model component builds in the ``'mmdl'``
    scope unless they have a ``_scope_``: plugin configs
    (:mod:`mmdl.models.utils.plugin_insertion`) and the wrapped backbone of
    :class:`~mmdl.models.backbones.PluggedBackbone`."""
    cls = resolve(root_registries()['MODELS'], node['type'], scope.name)
    if not isinstance(cls, type) or not cls.__module__.startswith('mmdl.'):
        return {}
    from mmdl.models.backbones.plugged_backbone import PluggedBackbone
    children = dict(plugins='mmdl')
    if issubclass(cls, PluggedBackbone):
        children['backbone'] = 'mmdl'
    return children


def _model_sites(node: Any,
                 path: str,
                 scope: _Scope,
                 registry: str = 'MODELS') -> Iterator[_Site]:
    if isinstance(node, (list, tuple)):
        for index, item in enumerate(node):
            yield from _model_sites(item, f'{path}.{index}', scope, registry)
    elif isinstance(node, Mapping):
        yield from _typed(node, path, scope, registry, lenient=True)
        scope = _scope_of(node, scope, path)
        children = _mmdl_child_scopes(node, scope) if isinstance(
            node.get('type'), str) and registry == 'MODELS' else {}
        for key, value in node.items():
            if key in ('type', '_scope_'):
                continue
            child_scope = scope
            if key in children:
                child_scope = _Scope(children[key], f'{path}.{key}')
            yield from _model_sites(
                value, f'{path}.{key}', child_scope,
                'WEIGHT_INITIALIZERS' if key == 'init_cfg' else registry)


def _transform_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if isinstance(node, (list, tuple)):  # e.g. RandomChoice's transforms
        for index, item in enumerate(node):
            yield from _transform_sites(item, f'{path}.{index}', scope)
    elif isinstance(node, Mapping):
        yield from _typed(node, path, scope, 'TRANSFORMS')
        yield from _transform_sites(
            node.get('transforms'), f'{path}.transforms',
            _scope_of(node, scope, path))


def _dataset_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if not isinstance(node, Mapping):
        return
    yield from _typed(node, path, scope, 'DATASETS')
    scope = _scope_of(node, scope, path)
    pipeline = node.get('pipeline')
    if isinstance(pipeline, (list, tuple)):
        yield from _transform_sites(pipeline, f'{path}.pipeline', scope)
    inner = node.get('dataset')
    if isinstance(inner, Mapping):
        yield from _dataset_sites(inner, f'{path}.dataset', scope)
    elif isinstance(inner, (list, tuple)):  # TaskDataset: one per task
        for index, item in enumerate(inner):
            yield from _dataset_sites(item, f'{path}.dataset.{index}', scope)
    datasets = node.get('datasets')
    for index, item in enumerate(
            datasets if isinstance(datasets, (list, tuple)) else ()):
        yield from _dataset_sites(item, f'{path}.datasets.{index}', scope)


def _dataloader_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if not isinstance(node, Mapping):
        return
    yield from _dataset_sites(node.get('dataset'), f'{path}.dataset', scope)
    for key in ('sampler', 'batch_sampler'):
        yield from _typed(
            node.get(key), f'{path}.{key}', scope, 'DATA_SAMPLERS')
    # the runner looks collate functions up in the root registry
    yield from _typed(
        node.get('collate_fn'), f'{path}.collate_fn',
        _Scope(None, f'{path}.collate_fn'), 'FUNCTIONS')


def _optim_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if not isinstance(node, Mapping):
        return
    if isinstance(node.get('constructor'), str):
        yield _Site(f'{path}.constructor', node['constructor'], scope,
                    'OPTIM_WRAPPER_CONSTRUCTORS')
    if 'optimizer' in node or 'type' in node:
        yield from _typed(node, path, scope, 'OPTIM_WRAPPERS')
        yield from _typed(
            node.get('optimizer'), f'{path}.optimizer', scope, 'OPTIMIZERS')
        return
    for key, value in node.items():  # one optimiser wrapper per module
        if isinstance(value, Mapping):
            yield from _optim_sites(value, f'{path}.{key}', scope)


def _scheduler_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if isinstance(node, Mapping) and 'type' not in node:  # per optimiser
        for key, value in node.items():
            yield from _each(value, f'{path}.{key}', scope, 'PARAM_SCHEDULERS')
    else:
        yield from _each(node, path, scope, 'PARAM_SCHEDULERS')


def _evaluator_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if isinstance(node, Mapping) and 'metrics' in node:
        yield from _typed(node, path, scope, 'EVALUATOR')
        yield from _each(node['metrics'], f'{path}.metrics',
                         _scope_of(node, scope, path), 'METRICS')
    else:
        yield from _each(node, path, scope, 'METRICS')


def _hook_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    yield from _typed(node, path, scope, 'HOOKS')
    if isinstance(node, Mapping):
        yield from _typed(
            node.get('regularizer'), f'{path}.regularizer',
            _scope_of(node, scope, path), 'REGULARIZERS')


def _default_hook_sites(node: Any, path: str,
                        scope: _Scope) -> Iterator[_Site]:
    for name, hook in (node.items() if isinstance(node, Mapping) else ()):
        yield from _hook_sites(hook, f'{path}.{name}', scope)


def _custom_hook_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    for index, hook in enumerate(node or ()):
        yield from _hook_sites(hook, f'{path}.{index}', scope)


def _loop_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    yield from _typed(node, path, scope, 'LOOPS')
    task_cfgs = node.get('task_cfgs') if isinstance(node, Mapping) else None
    if not isinstance(task_cfgs, (list, tuple)):
        return
    for index, task_cfg in enumerate(task_cfgs):  # TaskSequenceTrainLoop
        if isinstance(task_cfg, Mapping):
            where = f'{path}.task_cfgs.{index}'
            yield from _optim_sites(
                task_cfg.get('optim_wrapper'), f'{where}.optim_wrapper', scope)
            if task_cfg.get('param_scheduler') is not None:
                yield from _scheduler_sites(task_cfg['param_scheduler'],
                                            f'{where}.param_scheduler', scope)


def _visualizer_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    yield from _typed(node, path, scope, 'VISUALIZERS')
    if isinstance(node, Mapping):
        yield from _each(
            node.get('vis_backends'), f'{path}.vis_backends',
            _scope_of(node, scope, path), 'VISBACKENDS')


def _runner_sites(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
    if isinstance(node, str):  # built before any default scope is set
        yield _Site(path, node, _Scope(None, path), 'RUNNERS')


def _single(registry: str) -> Walker:

    def walk(node: Any, path: str, scope: _Scope) -> Iterator[_Site]:
        return _typed(node, path, scope, registry)

    return walk


_WALKERS: Dict[str, Walker] = dict(
    runner_type=_runner_sites,
    model=_model_sites,
    model_wrapper_cfg=_single('MODEL_WRAPPERS'),
    train_dataloader=_dataloader_sites,
    val_dataloader=_dataloader_sites,
    test_dataloader=_dataloader_sites,
    train_cfg=_loop_sites,
    val_cfg=_loop_sites,
    test_cfg=_loop_sites,
    val_evaluator=_evaluator_sites,
    test_evaluator=_evaluator_sites,
    optim_wrapper=_optim_sites,
    param_scheduler=_scheduler_sites,
    default_hooks=_default_hook_sites,
    custom_hooks=_custom_hook_sites,
    visualizer=_visualizer_sites,
    log_processor=_single('LOG_PROCESSORS'))


def _check_scope(scope: _Scope) -> None:
    if scope.name is None or scope.name in known_scopes():
        return
    try:
        import_module(f'{scope.name}.registry')
    except (ImportError, AttributeError):
        pass
    if scope.name not in known_scopes():
        raise ConfigError(
            f"{scope.key}: '{scope.name}' is not the scope of any registry "
            f"(known scopes: {', '.join(known_scopes())})")


def _check_site(site: _Site) -> None:
    roots = root_registries()
    root = roots[site.registry]
    if resolve(root, site.name, site.scope.name) is not None:
        return
    if site.lenient and any(
            resolve(other, site.name, site.scope.name) is not None
            for other in roots.values() if other is not root):
        return
    raise ConfigError(
        unknown_type_message(site.name, root, site.scope.name,
                             f' at {site.path}'))


def check_types(cfg: Mapping, parts: Optional[Sequence[str]] = None) -> None:
    """Check that every ``type`` in the given parts of a config resolves in
    its registry, in the scope the build will use.

    The scope is ``default_scope``, replaced in a subtree by its
    ``_scope_``; prefixed names (``'mmpretrain.X'``) resolve like
    ``Registry.get``. In the model, a type may also belong to another
    registry (``init_cfg`` types are weight initialisers, norm and
    activation layers are mmcv's), so only names that resolve in none are
    reported.

    Args:
        cfg (Mapping): The config.
        parts (Sequence[str], optional): Top-level keys to check, from
            :data:`PARTS` (all of them by default).

    Raises:
        ConfigError: Naming the first unknown type, its key, registry and
            scope, with suggestions; or an unknown ``default_scope`` or
            ``_scope_``.
    """
    import mmdl.registry  # noqa: F401  (mmdl's REGULARIZERS)
    cfg = _as_mapping(cfg)
    default = cfg.get('default_scope')
    scope = _Scope(
        default if isinstance(default, str) else None, 'default_scope')
    _check_scope(scope)
    for part in PARTS if parts is None else parts:
        if cfg.get(part) is None:
            continue
        for site in _WALKERS[part](cfg[part], part, scope):
            _check_scope(site.scope)
            _check_site(site)
