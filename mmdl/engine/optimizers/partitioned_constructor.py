# Copyright (c) mmdl contributors. All rights reserved.
"""One optimiser per named part of a model's parameters."""
import copy
import fnmatch
from typing import Dict, List, Optional, Sequence

from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from mmdl.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmdl.utils.config_checks import ConfigError


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class PartitionedOptimWrapperConstructor:
    """Split a model's trainable parameters by name into parts, each with
    its own optimiser wrapper, and return them as an ``OptimWrapperDict``.

    mmengine 0.10.7 ships no constructor for several optimisers (its
    runner asks for a custom one); this one selects parameters by name
    patterns rather than by sub-module, so that parameters living deep in
    a model (a backbone's architecture parameters) can have their own
    optimiser::

        optim_wrapper = dict(
            constructor='PartitionedOptimWrapperConstructor',
            architecture=dict(
                params=['*.alphas_*'],
                optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999),
                               weight_decay=1e-3)),
            network=dict(  # every other trainable parameter
                optimizer=dict(type='SGD', lr=0.025, momentum=0.9,
                               weight_decay=3e-4),
                clip_grad=dict(max_norm=5)))

    Every part is an optim-wrapper config (``type``, ``optimizer``,
    ``clip_grad``, ``paramwise_cfg``, ...) plus ``params``: a list of
    :mod:`fnmatch` patterns on parameter names. One part may omit
    ``params`` and takes the parameters no other part names. Parameter
    schedulers are then given per part, ``param_scheduler=dict(network=[...],
    architecture=[])``.

    Args:
        optim_wrapper_cfg (dict): Part name to its config.
        paramwise_cfg (dict, optional): Not allowed at this level; give it
            inside a part.

    Raises:
        ConfigError: A parameter matches two parts or none, a part matches
            no parameter, or more than one part omits ``params``.
    """

    def __init__(self,
                 optim_wrapper_cfg: dict,
                 paramwise_cfg: Optional[dict] = None) -> None:
        if paramwise_cfg is not None:
            raise ConfigError('PartitionedOptimWrapperConstructor: give '
                              'paramwise_cfg inside a part of optim_wrapper')
        parts = dict(optim_wrapper_cfg)
        if not parts or not all(isinstance(v, dict) for v in parts.values()):
            raise ConfigError(
                'PartitionedOptimWrapperConstructor: optim_wrapper must map '
                'part names to optim-wrapper configs (with optional params '
                f'patterns), got keys {list(parts)}')
        rest = [name for name, cfg in parts.items() if 'params' not in cfg]
        if len(rest) > 1:
            raise ConfigError(
                'PartitionedOptimWrapperConstructor: at most one part may '
                f'omit params (the remaining parameters); {rest} do')
        for name, cfg in parts.items():
            patterns = cfg.get('params', [])
            if isinstance(patterns,
                          str) or not isinstance(patterns, (list, tuple)):
                raise ConfigError(
                    f'PartitionedOptimWrapperConstructor: optim_wrapper.'
                    f'{name}.params must be a list of name patterns, got '
                    f'{patterns!r}')
        self.parts = parts
        self.rest = rest[0] if rest else None

    def partition(self, model: nn.Module) -> Dict[str, List[str]]:
        """Part name to the names of its parameters (trainable ones)."""
        names = [n for n, p in model.named_parameters() if p.requires_grad]
        found: Dict[str, List[str]] = {part: [] for part in self.parts}
        for name in names:
            hits = [
                part for part, cfg in self.parts.items() if any(
                    fnmatch.fnmatchcase(name, pattern)
                    for pattern in cfg.get('params', ()))
            ]
            if len(hits) > 1:
                raise ConfigError(f'PartitionedOptimWrapperConstructor: '
                                  f'parameter {name!r} matches the params '
                                  f'of several parts: {hits}')
            if not hits:
                if self.rest is None:
                    raise ConfigError(
                        f'PartitionedOptimWrapperConstructor: parameter '
                        f'{name!r} matches no part; add a pattern or a '
                        'part without params')
                hits = [self.rest]
            found[hits[0]].append(name)
        empty = [part for part, members in found.items() if not members]
        if empty:
            raise ConfigError(f'PartitionedOptimWrapperConstructor: the '
                              f'parts {empty} hold no trainable parameter '
                              f'(patterns: '
                              f'{[self.parts[p].get("params") for p in empty]}'
                              ')')
        return found

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        """Build one optim wrapper per part.

        Args:
            model (nn.Module): The model (a DDP wrapper's ``module``).

        Returns:
            OptimWrapperDict: Part name to its wrapper.
        """
        if hasattr(model, 'module'):
            model = model.module
        partition = self.partition(model)
        params = dict(model.named_parameters())
        wrappers = {}
        for part, cfg in self.parts.items():
            cfg = copy.deepcopy(cfg)
            cfg.pop('params', None)
            paramwise_cfg = cfg.pop('paramwise_cfg', None)
            members = [params[name] for name in partition[part]]
            wrappers[part] = _PartConstructor(cfg, paramwise_cfg, members)(
                model)
        return OptimWrapperDict(**wrappers)


class _ParameterView:
    """What ``DefaultOptimWrapperConstructor`` reads of a model without
    ``paramwise_cfg``: its parameters."""

    def __init__(self, params: Sequence[nn.Parameter]) -> None:
        self._params = list(params)

    def parameters(self):
        return iter(self._params)


class _PartConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor restricted to some parameters
    (``paramwise_cfg`` rules still see the whole model's modules)."""

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict],
                 members: Sequence[nn.Parameter]) -> None:
        super().__init__(optim_wrapper_cfg, paramwise_cfg)
        self.members = list(members)

    def __call__(self, model: nn.Module):
        if not self.paramwise_cfg:
            return super().__call__(_ParameterView(self.members))
        return super().__call__(model)

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   **kwargs) -> None:
        if prefix:  # a recursive call
            return super().add_params(params, module, prefix, **kwargs)
        groups: List[dict] = []
        super().add_params(groups, module, prefix, **kwargs)
        ids = {id(p) for p in self.members}
        params.extend(g for g in groups if id(g['params'][0]) in ids)
