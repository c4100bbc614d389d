# Copyright (c) mmdl contributors. All rights reserved.
"""Resuming a task sequence: the progress kept in the message hub, and
what identifies a task, to tell whether a checkpoint belongs to the
configured sequence.

A task is its epochs, its optimiser config (the ``optim_wrapper`` with the
task's overrides merged), its scheduler config and its training dataset
config (the template with the task index set; ``data_root`` is left out
so that a copy of the data elsewhere is the same task). Checkpoints store
one :func:`describe_task` record per task in ``meta``; resuming compares
the records of the tasks the checkpoint has started
(:func:`first_difference`), so tasks may be appended to a finished
sequence, but none that has started may change.
"""
import hashlib
import json
from typing import Any, Dict, List, Optional, Sequence

#: ``meta`` key of the per-task records in checkpoints.
SEQUENCE_KEY = 'mmdl_task_sequence'
#: Message-hub runtime-info keys (plain data, saved in checkpoints).
MATRIX_KEY = 'continual/accuracy_matrix'
COMPLETED_KEY = 'continual/completed_tasks'
TASK_EPOCHS_KEY = 'continual/task_epochs'


def _strip_data_root(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_data_root(v)
            for k, v in value.items() if k != 'data_root'
        }
    if isinstance(value, (list, tuple)):
        return [_strip_data_root(v) for v in value]
    return value


def _first_lr(optim_cfg: Optional[dict]) -> Optional[float]:
    optimizer = (optim_cfg or {}).get('optimizer') or {}
    return optimizer.get('lr') if isinstance(optimizer, dict) else None


def describe_task(epochs: int, optim_cfg: Optional[dict],
                  scheduler_cfg: Any, dataset_cfg: Any) -> Dict[str, Any]:
    """The record of one task.

    Args:
        epochs (int): The task's epochs.
        optim_cfg (dict, optional): Its merged ``optim_wrapper`` config.
        scheduler_cfg (Any): Its ``param_scheduler`` config.
        dataset_cfg (Any): Its training dataset config (a built dataset is
            described by its class name).

    Returns:
        dict: ``epochs``, ``lr``, ``dataset`` (type) and ``digest`` (a
        hash of all four configs).
    """
    if isinstance(dataset_cfg, dict):
        dataset_type = str(dataset_cfg.get('type'))
    else:
        dataset_type = type(dataset_cfg).__name__
        dataset_cfg = dataset_type
    text = json.dumps([
        int(epochs),
        _strip_data_root(optim_cfg),
        _strip_data_root(scheduler_cfg),
        _strip_data_root(dataset_cfg)
    ],
                      sort_keys=True,
                      default=repr)
    return dict(
        epochs=int(epochs),
        lr=_first_lr(optim_cfg),
        dataset=dataset_type,
        digest=hashlib.sha1(text.encode()).hexdigest()[:16])


def tasks_started(task_epochs: Sequence[int], epoch: int) -> int:
    """How many tasks of a sequence with ``task_epochs`` have begun
    training or are done (0-epoch tasks up to ``epoch``) after ``epoch``
    global epochs."""
    started, start = 0, 0
    for task, epochs in enumerate(task_epochs):
        if start < epoch or start + epochs <= epoch:
            started = task + 1
        start += epochs
    return started


def first_difference(saved: Sequence[dict], current: Sequence[dict],
                     started: int) -> Optional[str]:
    """Compare the records of the first ``started`` tasks.

    Args:
        saved (Sequence[dict]): Records stored in the checkpoint.
        current (Sequence[dict]): Records of the configured sequence.
        started (int): Tasks the checkpoint has started.

    Returns:
        str | None: What differs, naming the task, or None.
    """
    if len(current) < started:
        return (f'the checkpoint has started {started} tasks, the config '
                f'has {len(current)}')
    for task in range(started):
        old, new = saved[task], current[task]
        if old.get('digest') == new.get('digest'):
            continue
        changed: List[str] = [
            f'{key} {old.get(key)!r} -> {new.get(key)!r}'
            for key in ('epochs', 'lr', 'dataset')
            if old.get(key) != new.get(key)
        ]
        what = ', '.join(changed) or 'its dataset, optimiser or scheduler ' \
            'config'
        return f'task {task} differs ({what})'
    return None


def check_sequence(meta: dict, records: Sequence[dict], filename: str,
                   logger) -> None:
    """Refuse a checkpoint whose started tasks differ from ``records``.

    Args:
        meta (dict): The checkpoint's ``meta``.
        records (Sequence[dict]): The configured tasks' records.
        filename (str): The checkpoint, for the message.
        logger: Where to warn about a checkpoint without records.

    Raises:
        ConfigError: A task the checkpoint has started differs.
    """
    from mmdl.utils.config_checks import ConfigError
    saved = meta.get(SEQUENCE_KEY)
    if saved is None:
        logger.warning(f'{filename} has no task records (written before '
                       'mmdl stored them); the task sequence is not '
                       'checked.')
        return
    started = tasks_started([r['epochs'] for r in saved],
                            int(meta.get('epoch', 0)))
    problem = first_difference(saved, records, started)
    if problem:
        raise ConfigError(
            f"--resume: checkpoint '{filename}' belongs to another task "
            f'sequence: {problem}; resume refused, nothing was loaded')


def restore_progress(hub, task_epochs: List[int], epoch: int) -> None:
    """Check the restored epochs per task against ``task_epochs`` for the
    tasks started by ``epoch``, store ``task_epochs``, and widen the
    accuracy matrix when tasks were appended.

    Args:
        hub (MessageHub): The runner's message hub.
        task_epochs (list[int]): The configured epochs per task.
        epoch (int): Epochs done (restored).

    Raises:
        RuntimeError: A started task has other epochs.
    """
    saved = hub.get_info(TASK_EPOCHS_KEY, None)
    started = 0 if saved is None else tasks_started(saved, epoch)
    if saved is not None and list(saved[:started]) != task_epochs[:started]:
        raise RuntimeError(
            f'The checkpoint was trained with epochs per task '
            f'{list(saved)}, the config has {task_epochs}; the epoch -> '
            'task mapping would differ.')
    hub.update_info(TASK_EPOCHS_KEY, list(task_epochs))
    matrix, size = hub.get_info(MATRIX_KEY, None), len(task_epochs)
    if matrix is not None and len(matrix) < size:
        hub.update_info(MATRIX_KEY, [
            list(row) + [None] * (size - len(row)) for row in matrix
        ] + [[None] * size for _ in range(size - len(matrix))])
