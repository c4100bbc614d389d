# Copyright (c) mmdl contributors. All rights reserved.
"""The checks the tools run on a config before building the runner."""
from types import SimpleNamespace
from typing import Any, Mapping

from .config_checks import ConfigError, _as_mapping, check_data_roots
from .registry_lookup import resolve, root_registries
from .type_checks import check_types

#: Top-level keys built when training and when testing.
STAGE_PARTS = dict(
    train=('runner_type', 'model', 'model_wrapper_cfg', 'train_dataloader',
           'val_dataloader', 'train_cfg', 'val_cfg', 'val_evaluator',
           'optim_wrapper', 'param_scheduler', 'default_hooks', 'custom_hooks',
           'visualizer', 'log_processor'),
    test=('runner_type', 'model', 'model_wrapper_cfg', 'test_dataloader',
          'test_cfg', 'test_evaluator', 'default_hooks', 'custom_hooks',
          'visualizer', 'log_processor'))

#: The dataloaders whose data roots each stage needs.
STAGE_DATALOADERS = dict(
    train=('train_dataloader', 'val_dataloader'), test=('test_dataloader', ))

_LOOP_KEYS = ('num_tasks', 'max_epochs', 'task_cfgs')


def _is_task_sequence_loop(loop_type: Any, scope: Any) -> bool:
    from mmdl.engine.loops.task_sequence_loop import TaskSequenceTrainLoop
    if not isinstance(loop_type, str):
        return isinstance(loop_type, type) and issubclass(
            loop_type, TaskSequenceTrainLoop)
    found = resolve(root_registries()['LOOPS'], loop_type,
                    scope if isinstance(scope, str) else None)
    if isinstance(found, type):
        return issubclass(found, TaskSequenceTrainLoop)
    return loop_type.split('.')[-1] == TaskSequenceTrainLoop.__name__


def _keyed(error: Exception) -> ConfigError:
    """The loop's message with its argument named as a config key."""
    message = str(error)
    for key in _LOOP_KEYS:
        if message.startswith(key):
            return ConfigError(f'train_cfg.{message}')
    return ConfigError(f'train_cfg: {message}')


def check_train_cfg(cfg: Mapping) -> None:
    """Check a ``TaskSequenceTrainLoop`` ``train_cfg`` with the loop's own
    validation: :class:`~mmdl.engine.loops.task_schedule.TaskSchedule`
    for ``num_tasks`` and ``max_epochs``,
    :class:`~mmdl.engine.loops.task_optim.TaskOptimization` for
    ``task_cfgs``. Other loops are not checked.

    Args:
        cfg (Mapping): The config.

    Raises:
        ConfigError: Naming ``train_cfg.num_tasks``, ``train_cfg.max_epochs``
            or ``train_cfg.task_cfgs``.
    """
    from mmdl.engine.loops.task_optim import TaskOptimization
    from mmdl.engine.loops.task_schedule import TaskSchedule
    cfg = _as_mapping(cfg)
    train_cfg = cfg.get('train_cfg')
    if not isinstance(train_cfg, Mapping) or not _is_task_sequence_loop(
            train_cfg.get('type'),
            train_cfg.get('_scope_', cfg.get('default_scope'))):
        return
    for key in ('num_tasks', 'max_epochs'):
        if key not in train_cfg:
            raise ConfigError(f'train_cfg.{key} is missing '
                              '(TaskSequenceTrainLoop needs it)')
    num_tasks, max_epochs = train_cfg['num_tasks'], train_cfg['max_epochs']
    try:
        schedule = TaskSchedule(num_tasks, max_epochs)
    except (TypeError, ValueError) as error:
        if isinstance(error, ValueError):
            raise _keyed(error) from None
        raise ConfigError(
            'train_cfg: TaskSequenceTrainLoop needs num_tasks (an int) and '
            'max_epochs (an int or one int per task), got '
            f'num_tasks={num_tasks!r}, max_epochs={max_epochs!r}') from None
    # The loop reads only these from the runner while it validates; the
    # unbuilt configs are what it keeps for rebuilding.
    runner = SimpleNamespace(
        optim_wrapper=cfg.get('optim_wrapper'),
        param_schedulers=cfg.get('param_scheduler'),
        cfg=cfg)
    try:
        TaskOptimization(runner, schedule.epochs, train_cfg.get('task_cfgs'))
    except (TypeError, ValueError) as error:
        raise _keyed(error) from None


def check_config(cfg: Mapping, stage: str) -> None:
    """Run the pre-flight checks of a stage on a config: the data roots
    (:func:`~mmdl.utils.check_data_roots`), the types
    (:func:`~mmdl.utils.type_checks.check_types`) of the parts the stage
    builds and, for training, the task sequence (:func:`check_train_cfg`).

    Args:
        cfg (Mapping): The config, after the command-line options.
        stage (str): ``'train'`` or ``'test'``.

    Raises:
        ConfigError: The first problem found, naming the key.
    """
    if stage not in STAGE_PARTS:
        raise ValueError(f"stage must be 'train' or 'test', got {stage!r}")
    check_data_roots(cfg, STAGE_DATALOADERS[stage])
    check_types(cfg, STAGE_PARTS[stage])
    if stage == 'train':
        check_train_cfg(cfg)
