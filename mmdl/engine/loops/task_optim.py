# Copyright (c) mmdl contributors. All rights reserved.
"""A fresh optimiser and fresh parameter schedulers for every task."""
import copy
from typing import Any, List, Optional, Sequence

from mmengine.config import ConfigDict

TASK_CFG_KEYS = ('optim_wrapper', 'param_scheduler')


def merge_optim_cfg(base: dict, override: Optional[dict]) -> dict:
    """``override`` merged into a copy of ``base`` like a config into its
    ``_base_`` (mmengine's ``ConfigDict.merge``): nested dicts are merged,
    any other value (lists included) replaces the base value, and
    ``_delete_=True`` in a dict replaces the base dict instead of merging.

    Args:
        base (dict): The ``optim_wrapper`` config.
        override (dict, optional): A task's ``optim_wrapper`` overrides.

    Returns:
        dict: The merged config (``base`` is not modified).
    """
    merged = ConfigDict(copy.deepcopy(base))
    if override:
        merged.merge(override)
    return merged


def scheduler_types(cfg: Any) -> Any:
    """The structure of a ``param_scheduler`` config: its types."""
    if cfg is None:
        return None
    if isinstance(cfg, dict) and 'type' not in cfg:
        return {k: scheduler_types(v) for k, v in cfg.items()}
    if isinstance(cfg, dict):
        return [cfg['type']]
    return [
        c['type'] if isinstance(c, dict) else type(c).__name__ for c in cfg
    ]


class TaskOptimization:
    """Rebuilds ``runner.optim_wrapper`` and ``runner.param_schedulers`` at
    the start of a task.

    The ``optim_wrapper`` and ``param_scheduler`` configs are read when the
    loop is built (from the runner while they are unbuilt, else from
    ``runner.cfg``). For task ``t`` the optimiser wrapper is built from the
    ``optim_wrapper`` config merged with ``task_cfgs[t]['optim_wrapper']``
    (:func:`merge_optim_cfg`; ``auto_scale_lr`` applies), so momentum and
    Adam buffers start empty, and the schedulers from ``param_scheduler``
    or ``task_cfgs[t]['param_scheduler']``, with their ``begin``/``end``
    counted in epochs (iterations) of the task; a missing ``end`` is the
    task's length. A task with 0 epochs gets no schedulers
    (``runner.param_schedulers`` is None during it).

    Args:
        runner (Runner): The runner.
        task_epochs (Sequence[int]): Epochs of every task.
        task_cfgs (Sequence[dict | None], optional): Per-task overrides with
            keys ``optim_wrapper`` and ``param_scheduler``.
    """

    def __init__(self,
                 runner,
                 task_epochs: Sequence[int],
                 task_cfgs: Optional[Sequence[Optional[dict]]] = None) -> None:
        self.runner = runner
        self.task_epochs = list(task_epochs)
        num_tasks = len(self.task_epochs)
        if task_cfgs is None:
            task_cfgs = [None] * num_tasks
        if len(task_cfgs) != num_tasks:
            raise ValueError(f'task_cfgs has {len(task_cfgs)} entries for '
                             f'{num_tasks} tasks')
        self.task_cfgs: List[dict] = [dict(c or {}) for c in task_cfgs]
        for index, cfg in enumerate(self.task_cfgs):
            unknown = set(cfg) - set(TASK_CFG_KEYS)
            if unknown:
                raise ValueError(f'task_cfgs[{index}] has unknown keys '
                                 f'{sorted(unknown)}; expected '
                                 "'optim_wrapper' and/or 'param_scheduler'")
        self.optim_cfg = self._config_of(runner.optim_wrapper, 'optim_wrapper')
        self.sched_cfg = self._config_of(runner.param_schedulers,
                                         'param_scheduler')
        base_types = scheduler_types(self.sched_cfg)
        for index, cfg in enumerate(self.task_cfgs):
            if ('param_scheduler' in cfg
                    and scheduler_types(cfg['param_scheduler']) != base_types):
                raise ValueError(
                    f'task_cfgs[{index}].param_scheduler must have the same '
                    'scheduler types as param_scheduler (they are restored '
                    f'into them on resume): {base_types} vs '
                    f'{scheduler_types(cfg["param_scheduler"])}')

    def task_optim_cfg(self, task: int) -> Optional[dict]:
        """The ``optim_wrapper`` config of ``task`` (overrides merged)."""
        if self.optim_cfg is None:
            return None
        return merge_optim_cfg(self.optim_cfg,
                               self.task_cfgs[task].get('optim_wrapper'))

    def task_scheduler_cfg(self, task: int) -> Any:
        """The ``param_scheduler`` config of ``task``."""
        return copy.deepcopy(self.task_cfgs[task].get('param_scheduler',
                                                      self.sched_cfg))

    def reset(self, task: int, epoch_length: int) -> None:
        """Build the optimiser wrapper and the schedulers of ``task``.

        Args:
            task (int): Index of the task.
            epoch_length (int): Iterations per epoch of the task.
        """
        runner = self.runner
        if self.optim_cfg is None:
            raise RuntimeError('TaskSequenceTrainLoop cannot reset the '
                               'optimiser: no optim_wrapper config')
        optim_cfg = self.task_optim_cfg(task)
        sched_cfg = self.task_scheduler_cfg(task)
        # scale_lr refuses to run while schedulers are built
        runner.param_schedulers = None
        runner.optim_wrapper = runner.build_optim_wrapper(optim_cfg)
        runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
        if sched_cfg is not None and self.task_epochs[task] > 0:
            runner.param_schedulers = runner.build_param_scheduler(
                self.scheduler_cfg(sched_cfg, task, epoch_length))

    def scheduler_cfg(self, cfg: Any, task: int, epoch_length: int) -> Any:
        """Deep copy of a ``param_scheduler`` config with ``end`` defaulting
        to the task's epochs (iterations for ``by_epoch=False``)."""
        if isinstance(cfg, dict) and 'type' not in cfg:
            return {
                name: self.scheduler_cfg(sub, task, epoch_length)
                for name, sub in cfg.items()
            }
        if isinstance(cfg, dict):
            cfg = copy.deepcopy(cfg)
            epochs = self.task_epochs[task]
            cfg.setdefault(
                'end',
                epochs if cfg.get('by_epoch', True) else epochs * epoch_length)
            return cfg
        return [self.scheduler_cfg(c, task, epoch_length) for c in cfg]

    def _config_of(self, value: Any, cfg_key: str) -> Any:
        """A config dict/list kept for rebuilding: the runner's value while
        it is unbuilt, else ``runner.cfg[cfg_key]``."""

        def is_config(item: Any) -> bool:
            if isinstance(item, dict):
                if cfg_key == 'param_scheduler' and 'type' not in item:
                    return all(is_config(v) for v in item.values())
                return True
            if isinstance(item, (list, tuple)):
                return all(isinstance(v, dict) for v in item)
            return False

        if value is not None and is_config(value):
            return copy.deepcopy(value)
        cfg = getattr(self.runner, 'cfg', None)
        found = cfg.get(cfg_key, None) if cfg is not None else None
        return copy.deepcopy(found)
