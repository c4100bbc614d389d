# Copyright (c) mmdl contributors. All rights reserved.
"""Insert plugin modules between the residual units of backbone stages.

A *stage* is an ``nn.Sequential`` of residual units (mmpretrain's
``ResLayer``, the ``layer<i>`` stages of mmdl's pre-activation backbones).
A plugin is any module that maps a feature map to one of the same shape,
e.g. :class:`~mmdl.models.plugins.ScaledNonLocal2d`. The Scaled Non-Local
paper (Cho et al., ICIP 2022) puts its block **just before the last residual
unit of a stage**; that is the default position here.

**Plugin dict schema** (one dict per entry of ``plugins``)::

    dict(
        cfg=dict(type='ScaledNonLocal2d', num_heads=4),  # required
        stage=1,          # or stages=(False, True, False); not both
        position=-1,      # before which residual unit; -1: before the last
        num=1)            # copies stacked at that position

* ``cfg`` (dict): config of the plugin, built with mmdl's ``MODELS`` and
  ``default_args=dict(in_channels=C)``, where C is the channel count of the
  feature map at the insertion point (see :func:`infer_in_channels`); an
  explicit ``in_channels`` in ``cfg`` wins. Unless ``cfg`` has a
  ``_scope_``, it is built in the ``'mmdl'`` scope whatever the current
  default scope is (an mmpretrain ``ImageClassifier`` builds its backbone in
  the ``'mmpretrain'`` scope): mmdl plugins need no prefix, mmpretrain ones
  need ``mmpretrain.``, and mmcv bricks registered in mmengine's root
  (``NonLocal2d``, ``ContextBlock``) are found through the parent registry.
* ``stage`` (int | list[int]): 0-based stage index (indices); negative
  values count from the last stage. ``stages`` (tuple[bool]): one flag per
  stage, as in mmdet's ResNet plugins. With neither key the plugin goes into
  every stage (mmdet's convention).
* ``position`` (int): index of the residual unit *before which* the plugin
  is inserted, counted among the stage's residual units only (plugins
  already in the stage do not count). ``-1`` (default) is before the last
  unit (the paper), ``0`` before the first unit (the stage input), and
  ``len(units)`` after the last unit. Negative values count from the end.
  Defaults to -1.
* ``num`` (int): number of copies stacked at that position, each built
  from ``cfg`` (the official ``num_block``). Defaults to 1.

**Module names.** Units keep their names (``'0'``, ``'1'``, ...), so the
state-dict keys of the original backbone are unchanged. Plugins become
children named ``'plugin_<k>'``, ``k`` counting from 0 per stage in the
order in which they sit in the stage, e.g. a 3-unit stage with one plugin
at ``position=-1`` has children ``'0', '1', 'plugin_0', '2'``. The stage is
reordered in place, so it keeps its class and attributes. Code that parses
unit indices from parameter names (mmpretrain's ``ResNet.get_layer_depth``
for layer-wise learning-rate decay) does not expect these names.

**Initialisation.** A host backbone's ``init_cfg`` (e.g. Kaiming on every
``Conv2d``, ones on every norm) also reaches the plugins and would undo
their own initialisation (the Scaled Non-Local block zero-initialises its
output norm so the network starts as the plain backbone). Hosts therefore
run :func:`init_weights_keeping_plugins`.
"""
import copy
from contextlib import contextmanager
from typing import (Callable, Dict, Iterable, Iterator, List, Optional,
                    Sequence, Tuple)

from mmengine.model import BaseModule, PretrainedInit, initialize
from torch import nn
from torch.nn.modules.conv import _ConvNd

from mmdl.registry import MODELS

__all__ = [
    'PLUGIN_PREFIX', 'insert_stage_plugins', 'get_stage_units',
    'get_stage_plugins', 'infer_in_channels', 'get_in_channels',
    'get_out_channels', 'resolve_stages', 'keep_plugin_init',
    'init_weights_keeping_plugins'
]

#: Name prefix of inserted plugins: children ``plugin_0``, ``plugin_1``...
PLUGIN_PREFIX = 'plugin_'
#: Keys of a plugin dict.
PLUGIN_KEYS = ('cfg', 'stage', 'stages', 'position', 'num')
#: Attributes searched by :func:`resolve_stages` when none is given.
STAGE_ATTRS = ('res_layers', 'stages', 'layers')


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def get_stage_units(stage: nn.Sequential) -> List[nn.Module]:
    """The residual units of a stage: its children not named
    ``plugin_<k>``.

    Args:
        stage (nn.Sequential): The stage.

    Returns:
        list[nn.Module]: The units, in order.
    """
    return [
        module for name, module in stage._modules.items()
        if module is not None and not name.startswith(PLUGIN_PREFIX)
    ]


def get_stage_plugins(stages: Iterable[nn.Sequential]) -> List[nn.Module]:
    """The plugins inserted in stages: their children named ``plugin_<k>``.

    Args:
        stages (Iterable[nn.Sequential]): The stages.

    Returns:
        list[nn.Module]: The plugins, stage by stage, in order.
    """
    return [
        module for stage in stages for name, module in stage._modules.items()
        if module is not None and name.startswith(PLUGIN_PREFIX)
    ]


def get_out_channels(module: nn.Module) -> int:
    """Channels of the output of a module (a residual unit).

    Uses the module's integer ``out_channels`` attribute (mmpretrain and
    mmdl blocks, convolutions) if it has one, otherwise the
    ``out_channels`` of its last convolution in registration order (in the
    usual blocks the last one is the last 3x3/1x1 convolution or the
    projection shortcut, both with the unit's output channels).

    Args:
        module (nn.Module): The module.

    Returns:
        int: The number of output channels.
    """
    channels = getattr(module, 'out_channels', None)
    if _is_int(channels):
        return channels
    convs = [m for m in module.modules() if isinstance(m, _ConvNd)]
    if convs:
        return convs[-1].out_channels
    raise ValueError(
        f'cannot infer the output channels of a {type(module).__name__}: '
        'it has no out_channels attribute and no convolution')


def get_in_channels(module: nn.Module) -> int:
    """Channels of the input of a module (a residual unit).

    Uses the module's integer ``in_channels`` attribute if it has one,
    otherwise the ``in_channels`` of its first convolution in registration
    order.

    Args:
        module (nn.Module): The module.

    Returns:
        int: The number of input channels.
    """
    channels = getattr(module, 'in_channels', None)
    if _is_int(channels):
        return channels
    for m in module.modules():
        if isinstance(m, _ConvNd):
            return m.in_channels
    raise ValueError(
        f'cannot infer the input channels of a {type(module).__name__}: '
        'it has no in_channels attribute and no convolution')


def infer_in_channels(units: Sequence[nn.Module], position: int) -> int:
    """Channels of the feature map entering unit ``position`` of a stage.

    Args:
        units (Sequence[nn.Module]): The residual units of the stage
            (:func:`get_stage_units`).
        position (int): Index of the unit before which a plugin goes, from
            0 (the stage input: input channels of the first unit) to
            ``len(units)`` (the stage output); otherwise the output channels
            of unit ``position - 1``.

    Returns:
        int: The number of channels.
    """
    if not units:
        raise ValueError('the stage has no residual units')
    if not 0 <= position <= len(units):
        raise ValueError(f'position={position} is not in 0..{len(units)}')
    if position == 0:
        return get_in_channels(units[0])
    return get_out_channels(units[position - 1])


def _parse_stages(plugin: dict, name: str, num_stages: int) -> List[int]:
    """Stage indices selected by ``stage`` / ``stages`` of a plugin dict."""
    if 'stage' in plugin and 'stages' in plugin:
        raise ValueError(
            f"{name} sets both 'stage' and 'stages'; use one of them")
    if 'stages' in plugin:
        flags = plugin['stages']
        if (not isinstance(flags, (list, tuple)) or len(flags) != num_stages
                or not all(isinstance(flag, bool) for flag in flags)):
            raise ValueError(
                f'{name}.stages must be a tuple of {num_stages} booleans '
                f'(one per stage), got {flags!r}')
        return [i for i, flag in enumerate(flags) if flag]
    if 'stage' not in plugin:
        return list(range(num_stages))
    stage = plugin['stage']
    indices = list(stage) if isinstance(stage, (list, tuple)) else [stage]
    selected: List[int] = []
    for index in indices:
        if not _is_int(index):
            raise ValueError(f'{name}.stage must be an int or a list of '
                             f'ints, got {stage!r}')
        if not -num_stages <= index < num_stages:
            raise ValueError(
                f'{name}.stage={index} is not a stage index: the backbone '
                f'has {num_stages} stages (0..{num_stages - 1}, or '
                'negative from the end)')
        index %= num_stages
        if index in selected:
            raise ValueError(f'{name}.stage lists stage {index} twice')
        selected.append(index)
    return sorted(selected)


def _parse_plugin(plugin, index: int,
                  num_stages: int) -> Tuple[dict, List[int], int, int]:
    """Validate one plugin dict; returns ``(cfg, stages, position, num)``."""
    name = f'plugins[{index}]'
    if not isinstance(plugin, dict):
        raise ValueError(f'{name} must be a dict with keys {PLUGIN_KEYS}, '
                         f'got a {type(plugin).__name__}')
    unknown = sorted(set(plugin) - set(PLUGIN_KEYS))
    if unknown:
        raise ValueError(f'{name} has unknown keys {unknown}; the keys are '
                         f'{PLUGIN_KEYS}')
    cfg = plugin.get('cfg')
    if not isinstance(cfg, dict) or 'type' not in cfg:
        raise ValueError(
            f"{name}.cfg must be a config dict with a 'type', got {cfg!r}")
    stages = _parse_stages(plugin, name, num_stages)
    position = plugin.get('position', -1)
    if not _is_int(position):
        raise ValueError(f'{name}.position must be an int, got '
                         f'{position!r}')
    num = plugin.get('num', 1)
    if not _is_int(num) or num < 1:
        raise ValueError(f'{name}.num must be a positive int, got {num!r}')
    return cfg, stages, position, num


def _rebuild_stage(stage: nn.Sequential,
                   new_plugins: Dict[int, List[nn.Module]]) -> None:
    """Reorder ``stage`` in place with ``new_plugins[p]`` just before
    unit ``p`` (after plugins already there); ``p = len(units)`` appends."""
    taken = set(stage._modules)
    counter = 0

    def next_name() -> str:
        nonlocal counter
        while f'{PLUGIN_PREFIX}{counter}' in taken:
            counter += 1
        name = f'{PLUGIN_PREFIX}{counter}'
        taken.add(name)
        return name

    ordered = []
    unit = 0
    for name, module in stage._modules.items():
        if not name.startswith(PLUGIN_PREFIX):
            ordered += [(next_name(), p) for p in new_plugins.get(unit, [])]
            unit += 1
        ordered.append((name, module))
    ordered += [(next_name(), p) for p in new_plugins.get(unit, [])]
    for name in list(stage._modules):
        delattr(stage, name)
    for name, module in ordered:
        stage.add_module(name, module)


def insert_stage_plugins(stages: Sequence[nn.Sequential],
                         plugins: Optional[Sequence[dict]]) -> None:
    """Build plugins and insert them between the residual units of stages.

    See the module docstring for the plugin dict schema and the names of
    the inserted modules. All plugin dicts are validated and all plugins
    built before any stage is modified, so an error leaves the stages
    unchanged. Plugins of several dicts at the same place keep the order of
    ``plugins``.

    Args:
        stages (Sequence[nn.Sequential]): The stages, modified in place.
        plugins (Sequence[dict], optional): Plugin dicts. None or empty
            inserts nothing.

    Example:
        >>> from mmpretrain.models import ResNet
        >>> net = ResNet(depth=18)
        >>> stages = [getattr(net, name) for name in net.res_layers]
        >>> insert_stage_plugins(
        ...     stages, [dict(cfg=dict(type='ScaledNonLocal2d'), stage=2)])
        >>> list(net.layer3._modules)
        ['0', 'plugin_0', '1']
    """
    stages = list(stages)
    for index, stage in enumerate(stages):
        if not isinstance(stage, nn.Sequential):
            raise TypeError(f'stage {index} is a {type(stage).__name__}, '
                            'not an nn.Sequential of residual units')
    if plugins is None:
        return
    if not isinstance(plugins, (list, tuple)):
        raise ValueError('plugins must be a list of plugin dicts, got a '
                         f'{type(plugins).__name__}')
    parsed = [
        _parse_plugin(plugin, index, len(stages))
        for index, plugin in enumerate(plugins)
    ]
    pending: Dict[int, Dict[int, List[nn.Module]]] = {}
    for index, (cfg, stage_ids, position, num) in enumerate(parsed):
        for stage_id in stage_ids:
            units = get_stage_units(stages[stage_id])
            num_units = len(units)
            if not -num_units <= position <= num_units:
                raise ValueError(
                    f'plugins[{index}].position={position} is out of range '
                    f'for stage {stage_id}, which has {num_units} residual '
                    f'units: use {-num_units}..{num_units} (-1 is before '
                    f'the last unit, {num_units} after it)')
            place = position + num_units if position < 0 else position
            build_cfg = copy.deepcopy(cfg)
            build_cfg.setdefault('_scope_', 'mmdl')
            default_args = None
            if 'in_channels' not in build_cfg:
                try:
                    channels = infer_in_channels(units, place)
                except ValueError as error:
                    raise ValueError(
                        f'plugins[{index}]: {error} (stage {stage_id}, '
                        f'position {position}); set cfg.in_channels '
                        'explicitly') from error
                default_args = dict(in_channels=channels)
            modules = [
                MODELS.build(
                    copy.deepcopy(build_cfg), default_args=default_args)
                for _ in range(num)
            ]
            pending.setdefault(stage_id, {}).setdefault(place,
                                                        []).extend(modules)
    for stage_id, new_plugins in pending.items():
        _rebuild_stage(stages[stage_id], new_plugins)


def resolve_stages(module: nn.Module,
                   stage_attr: Optional[str] = None) -> List[nn.Sequential]:
    """The stages of a backbone.

    Args:
        module (nn.Module): The backbone.
        stage_attr (str, optional): Attribute of ``module`` holding the
            stages: a sequence of attribute names (mmpretrain's
            ``ResNet.res_layers`` = ``['layer1', ...]``) or a sequence /
            ``nn.ModuleList`` of ``nn.Sequential`` stages. Defaults to None:
            the first of ``'res_layers'``, ``'stages'``, ``'layers'`` that
            the backbone has.

    Returns:
        list[nn.Sequential]: The stages.
    """
    names = STAGE_ATTRS if stage_attr is None else (stage_attr, )
    for attr in names:
        value = getattr(module, attr, None)
        if value is None:
            continue
        if not isinstance(value, (list, tuple, nn.ModuleList, nn.Sequential)):
            raise ValueError(
                f'stage_attr={attr!r}: {type(module).__name__}.{attr} is a '
                f'{type(value).__name__}, not a sequence of stages')
        stages = []
        for item in value:
            stage = getattr(module, item, None) if isinstance(item,
                                                              str) else item
            if not isinstance(stage, nn.Sequential):
                raise ValueError(
                    f'stage_attr={attr!r}: the stage {item!r} of '
                    f'{type(module).__name__} is a {type(stage).__name__}, '
                    'not an nn.Sequential of residual units')
            stages.append(stage)
        return stages
    if stage_attr is not None:
        raise ValueError(f'stage_attr={stage_attr!r} is not an attribute of '
                         f'{type(module).__name__}')
    raise ValueError(f'cannot find the stages of {type(module).__name__}: '
                     f'it has none of the attributes {STAGE_ATTRS}; set '
                     'stage_attr')


@contextmanager
def keep_plugin_init(plugins: Iterable[nn.Module]) -> Iterator[None]:
    """Give plugins back their own initialisation after the ``with`` body.

    On exit, the parameters and buffers of each plugin are restored to
    their values on entry, then mmengine plugins (``BaseModule``) not yet
    initialised run their own ``init_weights`` (their ``init_cfg``;
    :class:`~mmdl.models.plugins.ScaledNonLocal2d` redraws its own
    initialisation).

    Args:
        plugins (Iterable[nn.Module]): The plugins.
    """
    plugins = list(plugins)
    states = [copy.deepcopy(plugin.state_dict()) for plugin in plugins]
    yield
    for plugin, state in zip(plugins, states):
        plugin.load_state_dict(state)
        if isinstance(plugin, BaseModule) and not plugin.is_init:
            plugin.init_weights()


def _is_pretrained(cfg: dict) -> bool:
    return cfg.get('type') in ('Pretrained', PretrainedInit)


def init_weights_keeping_plugins(host: BaseModule,
                                 plugins: Iterable[nn.Module],
                                 init_weights: Callable[[], None]) -> None:
    """Initialise a host backbone so that its plugins keep their own
    initialisation and checkpoints still win.

    1. ``init_weights()`` (the host's ordinary initialisation, e.g.
       ``super().init_weights``) runs with the ``'Pretrained'`` entries
       removed from ``host.init_cfg``, inside :func:`keep_plugin_init`;
    2. the ``'Pretrained'`` entries of ``host.init_cfg`` are applied last,
       so plugin weights found in a checkpoint are loaded.

    Like ``BaseModule.init_weights``, nothing is initialised again once the
    host is initialised.

    Args:
        host (BaseModule): The backbone holding the plugins.
        plugins (Iterable[nn.Module]): Its plugins
            (:func:`get_stage_plugins`).
        init_weights (Callable): The host's ordinary initialisation.
    """
    if host.is_init:
        # mmengine initialises a module once; a second call is a no-op.
        init_weights()
        return
    init_cfg = host.init_cfg
    cfgs = [init_cfg] if isinstance(init_cfg, dict) else list(init_cfg or [])
    pretrained = [cfg for cfg in cfgs if _is_pretrained(cfg)]
    others = [cfg for cfg in cfgs if not _is_pretrained(cfg)]
    host.init_cfg = others or None
    try:
        with keep_plugin_init(plugins):
            init_weights()
    finally:
        host.init_cfg = init_cfg
    if pretrained:
        initialize(host, pretrained)
