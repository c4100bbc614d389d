# Copyright (c) mmdl contributors. All rights reserved.
"""Train a model on a sequence of tasks (continual learning)."""
import bisect
import copy
import json
import logging
import math
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader

from mmdl.registry import LOOPS

#: Message-hub runtime-info keys (plain data, saved in checkpoints).
MATRIX_KEY = 'continual/accuracy_matrix'
COMPLETED_KEY = 'continual/completed_tasks'
TASK_EPOCHS_KEY = 'continual/task_epochs'
#: Files written to the work directory after every task.
METRICS_FILE = 'continual_metrics.json'
MATRIX_PLOT_FILE = 'accuracy_matrix.png'


def _merge_dicts(base: dict, override: Optional[dict]) -> dict:
    """Recursively merge ``override`` into a deep copy of ``base``."""
    merged = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_dicts(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _scheduler_types(cfg: Any) -> Any:
    """The structure of a ``param_scheduler`` config: its types."""
    if cfg is None:
        return None
    if isinstance(cfg, dict) and 'type' not in cfg:
        return {k: _scheduler_types(v) for k, v in cfg.items()}
    if isinstance(cfg, dict):
        return [cfg['type']]
    return [
        c['type'] if isinstance(c, dict) else type(c).__name__ for c in cfg
    ]


@LOOPS.register_module()
class TaskSequenceTrainLoop(BaseLoop):
    """Epoch-based training on a sequence of tasks, with the accuracy
    matrix of continual learning.

    Usage::

        train_cfg = dict(type='TaskSequenceTrainLoop', num_tasks=3,
                         max_epochs=2)  # or one number per task: [5, 2, 2]
        # a pretrained source task (load_from) that is not retrained:
        # dict(type='TaskSequenceTrainLoop', num_tasks=2, max_epochs=[0, 30])
        val_cfg = dict()

    **Task data.** The top-level ``train_dataloader`` and ``val_dataloader``
    configs are templates: for task ``t`` the loop deep-copies them, sets
    ``dataset.task_id = t`` (the outermost dataset dict, also when it wraps
    another dataset) and builds them with ``runner.build_dataloader(cfg,
    seed=runner.seed)``. Only the current task's training loader is kept;
    ``loop.dataloader`` (and so ``runner.train_dataloader``, used by
    ``DistSamplerSeedHook``, the logger and ``save_checkpoint``) is always
    the loader of :attr:`task`, built lazily. Validation loaders are cached
    per task. The runner's own ``val_loop`` is built from the template; if
    the template's dataset has no ``task_id``, the loop sets it to 0 there
    (before the runner builds its validation loop), so task datasets without
    a default ``task_id`` work.

    **Epochs and iterations are global.** :attr:`epoch` counts the epochs of
    the whole sequence and :attr:`max_epochs` is their sum, so
    ``CheckpointHook`` writes ``epoch_1.pth .. epoch_N.pth`` across tasks and
    ``EpochSeedHook``/``DefaultSampler`` get distinct epochs. The epoch
    determines the task (:attr:`task_epochs`). :attr:`max_iters` is exact
    for tasks whose training loader has been built and assumes the length of
    the nearest built task for the others (it only feeds the ETA and the
    gradient-accumulation bookkeeping).

    **Per task ``t``** (:meth:`run`):

    1. set ``current_task = t`` on the (unwrapped) model if it has that
       attribute, and build the task's training loader;
    2. ``runner.call_hook('before_task', task_index=t)``;
    3. **reset the optimisation state**: rebuild ``runner.optim_wrapper``
       from the ``optim_wrapper`` config (fresh momentum/Adam buffers;
       ``auto_scale_lr`` applies) merged with
       ``task_cfgs[t]['optim_wrapper']``, and ``runner.param_schedulers``
       from the ``param_scheduler`` config (or
       ``task_cfgs[t]['param_scheduler']``). Schedulers are built anew for
       the task, so their ``begin``/``end`` count epochs (or iterations)
       **of the task**; a missing ``end`` defaults to the task's epochs
       (iterations). The hook in step 2 therefore sees the previous task's
       optimiser; hooks that change the model (new parameters) get them
       optimised;
    4. train the task's epochs like ``EpochBasedTrainLoop`` (same
       ``before/after_train_epoch`` and ``before/after_train_iter`` calls),
       except that ``model.train()`` is called **before**
       ``before_train_epoch`` (mmengine calls it after), so that hooks may
       switch layers, e.g. BN, to eval mode for the epoch;
    5. with ``val_interval > 0``, evaluate the current task every
       ``val_interval`` epochs of the task (except its last), logged as
       ``val/task{t}/<metric>``; off by default;
    6. evaluate every task seen so far, ``j = 0..t``, with the runner's
       ``val_evaluator`` on the validation loader of task ``j`` (eval mode,
       no gradients, ``model.val_step``; the training/eval mode of every
       module is restored afterwards) and fill row ``t`` of the accuracy
       matrix ``R[t][j]`` with ``metric_key``. The matrix, the metrics of
       :func:`~mmdl.evaluation.metrics.continual_metrics` (ACC, BWT,
       forgetting, row averages) are logged, stored as message-hub scalars
       ``continual/ACC`` ... and visualizer scalars (step ``t + 1``), and
       written to ``work_dir/continual_metrics.json`` and
       ``work_dir/accuracy_matrix.png``. Without a validation loop (e.g.
       ``--no-validate``) or for ``t < val_begin_task``, row ``t`` stays
       empty (``None``);
    7. ``runner.call_hook('after_task', task_index=t)`` (the training loader
       is still task ``t``'s and ``completed_tasks == t``);
    8. mark the task completed.

    **Tasks with 0 epochs.** ``max_epochs`` may be 0 for some tasks (not
    for all; negative numbers are refused), e.g. ``max_epochs=[0, 30]`` for
    a source task learnt before the sequence (the model starts from a
    checkpoint with ``load_from``) followed by a target task. Such a task is
    entered (steps 1-3; its optimiser is rebuilt, but no parameter
    scheduler: ``runner.param_schedulers`` is None during the task), trains
    nothing (steps 4-5 are skipped, no ``before/after_train_epoch``, no
    checkpoint) and is finished like any other (steps 6-8), so its
    accuracy-matrix row and its 'after_task' event (e.g. a curvature
    collected at the loaded weights over the task's training data) exist.
    It owns no global epoch: with ``max_epochs=[0, 2]`` the global epochs 1
    and 2 (``epoch_1.pth``, ``epoch_2.pth``) belong to task 1, and every
    checkpoint is written after task 0 is completed, so a resumed run does
    not repeat task 0. A 0-epoch task later in the sequence starts after
    the last checkpoint of the task before it; resuming from that
    checkpoint finishes that task, then runs the 0-epoch task (once).

    **Resuming.** The accuracy matrix (``continual/accuracy_matrix``, nested
    lists with ``None``), the number of completed tasks
    (``continual/completed_tasks``) and the epochs per task are message-hub
    runtime information, hence in every checkpoint. After ``--resume`` the
    restored global epoch ``e`` and ``completed_tasks = k`` decide:

    * ``e`` inside task ``k``: its remaining epochs run **without**
      'before_task' and without resetting the optimiser and schedulers
      (restored from the checkpoint). Per-task ``param_scheduler``
      overrides must therefore have the same scheduler types as the base
      ``param_scheduler`` (checked);
    * ``e`` at the end of task ``k`` (the checkpoint of its last epoch,
      written before its evaluation): steps 6-8 of task ``k`` run first, then
      task ``k + 1`` starts normally.

    Resuming with other epochs per task is refused (the epoch -> task map
    would change). Together with ``randomness=dict(seed=...)`` and
    ``EpochSeedHook``, a resumed sequence reproduces the uninterrupted one.
    Hooks with their own continual-learning state (e.g. penalties) keep it
    in checkpoints themselves (``before_save_checkpoint`` /
    ``after_load_checkpoint``): a task resumed in the middle gets no
    'before_task'.

    Args:
        runner (Runner): The runner.
        dataloader (dict): The training dataloader template (a config dict,
            not a built ``DataLoader``).
        num_tasks (int): Number of tasks.
        max_epochs (int | Sequence[int]): Epochs of every task, or one
            number per task; 0 for a task that is evaluated (and whose
            'before_task'/'after_task' events fire) but not trained. At
            least one task needs epochs.
        val_begin_task (int): The first task after which the accuracy matrix
            row is evaluated (and per-epoch validation runs). Defaults to 0.
        val_interval (int): Validate the current task every
            ``val_interval`` epochs within a task; 0 (default) disables it.
        metric_key (str): Key of the evaluator's result stored in the
            matrix. Defaults to ``'accuracy/top1'``.
        task_cfgs (Sequence[dict | None], optional): One dict per task with
            optional keys ``optim_wrapper`` (merged recursively into the
            ``optim_wrapper`` config, e.g.
            ``dict(optim_wrapper=dict(optimizer=dict(lr=0.01)))`` for a
            per-task learning rate) and ``param_scheduler`` (replaces the
            ``param_scheduler`` config). Defaults to None.
        task_key (str): The dataset argument set to the task index.
            Defaults to ``'task_id'``.
        save_results (bool): Write the JSON and PNG files. Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 num_tasks: int,
                 max_epochs: Union[int, Sequence[int]],
                 val_begin_task: int = 0,
                 val_interval: int = 0,
                 metric_key: str = 'accuracy/top1',
                 task_cfgs: Optional[Sequence[Optional[dict]]] = None,
                 task_key: str = 'task_id',
                 save_results: bool = True) -> None:
        # BaseLoop.__init__ is not called: it would build the template.
        self._runner = runner
        if not isinstance(dataloader, dict):
            raise TypeError('TaskSequenceTrainLoop needs the '
                            'train_dataloader config (a dict used as a '
                            'template per task), not a built '
                            f'{type(dataloader).__name__}')
        if int(num_tasks) != num_tasks or num_tasks < 1:
            raise ValueError(f'num_tasks must be a positive integer, got '
                             f'{num_tasks}')
        self.num_tasks = int(num_tasks)
        if isinstance(max_epochs, (int, np.integer)):
            epochs = [int(max_epochs)] * self.num_tasks
        else:
            epochs = [int(e) for e in max_epochs]
            if len(epochs) != self.num_tasks:
                raise ValueError(f'max_epochs has {len(epochs)} entries for '
                                 f'{self.num_tasks} tasks')
        if any(e < 0 for e in epochs):
            raise ValueError(f'max_epochs must be >= 0 for every task, got '
                             f'{epochs}')
        if not any(epochs):
            raise ValueError(
                f'max_epochs is 0 for every task ({epochs}): nothing to '
                'train (evaluate a checkpoint with tools/test.py instead)')
        self._task_epochs = epochs
        self._task_starts = [0] + np.cumsum(epochs).tolist()
        if task_cfgs is None:
            task_cfgs = [None] * self.num_tasks
        if len(task_cfgs) != self.num_tasks:
            raise ValueError(f'task_cfgs has {len(task_cfgs)} entries for '
                             f'{self.num_tasks} tasks')
        self.task_cfgs = [dict(c or {}) for c in task_cfgs]
        for index, cfg in enumerate(self.task_cfgs):
            unknown = set(cfg) - {'optim_wrapper', 'param_scheduler'}
            if unknown:
                raise ValueError(f'task_cfgs[{index}] has unknown keys '
                                 f'{sorted(unknown)}; expected '
                                 "'optim_wrapper' and/or 'param_scheduler'")
        self.val_begin_task = int(val_begin_task)
        self.val_interval = int(val_interval)
        # mmengine's runner exposes `val_begin`; validation is per task here
        self.val_begin = 1
        self.metric_key = metric_key
        self.task_key = task_key
        self.save_results = save_results
        # set by EarlyStoppingHook
        self.stop_training = False

        self._train_template = copy.deepcopy(dataloader)
        self._optim_cfg = self._config_of(runner.optim_wrapper,
                                          'optim_wrapper')
        self._sched_cfg = self._config_of(runner.param_schedulers,
                                          'param_scheduler')
        base_types = _scheduler_types(self._sched_cfg)
        for index, cfg in enumerate(self.task_cfgs):
            if ('param_scheduler' in cfg and _scheduler_types(
                    cfg['param_scheduler']) != base_types):
                raise ValueError(
                    f'task_cfgs[{index}].param_scheduler must have the same '
                    'scheduler types as param_scheduler (they are restored '
                    f'into them on resume): {base_types} vs '
                    f'{_scheduler_types(cfg["param_scheduler"])}')
        self._val_template = self._prepare_val_template()

        self._epoch = 0
        self._iter = 0
        self._task: Optional[int] = None
        self._loader: Optional[DataLoader] = None
        self._loader_task: Optional[int] = None
        self._loader_lengths: Dict[int, int] = {}
        self._val_loaders: Dict[int, DataLoader] = {}

    # ------------------------------------------------------------------
    # properties
    # ------------------------------------------------------------------
    @property
    def max_epochs(self) -> int:
        """int: Epochs of the whole sequence."""
        return self._task_starts[-1]

    @property
    def max_iters(self) -> int:
        """int: Iterations of the whole sequence (estimated for tasks whose
        training loader has not been built)."""
        if not self._loader_lengths:
            len(self.dataloader)
        known = self._loader_lengths
        first = known[min(known)]
        total, last = 0, first
        for task, epochs in enumerate(self._task_epochs):
            last = known.get(task, last)
            total += epochs * last
        return total

    @property
    def epoch(self) -> int:
        """int: Global epoch (completed epochs of the sequence)."""
        return self._epoch

    @property
    def iter(self) -> int:
        """int: Global iteration."""
        return self._iter

    @property
    def task(self) -> int:
        """int: Index of the current task. Before :meth:`run`, the task of
        the last epoch trained (of the checkpoint being resumed), 0 at the
        start."""
        if self._task is not None:
            return self._task
        if self._epoch == 0:
            # the first task, even when it has no epochs
            return 0
        return self.task_of_epoch(self._epoch - 1)

    @property
    def task_epochs(self) -> List[int]:
        """list[int]: Epochs of every task."""
        return list(self._task_epochs)

    @property
    def task_start_epochs(self) -> List[int]:
        """list[int]: Global epoch at which every task starts, plus the
        total."""
        return list(self._task_starts)

    @property
    def completed_tasks(self) -> int:
        """int: Tasks whose end-of-task evaluation and 'after_task' event
        are done (message-hub runtime information)."""
        return int(self.runner.message_hub.get_info(COMPLETED_KEY, 0))

    @property
    def accuracy_matrix(self) -> List[List[Optional[float]]]:
        """list[list[float | None]]: A copy of the accuracy matrix
        ``R[i][j]`` (None where not measured)."""
        matrix = self.runner.message_hub.get_info(MATRIX_KEY, None)
        if matrix is None:
            return [[None] * self.num_tasks for _ in range(self.num_tasks)]
        return copy.deepcopy([list(row) for row in matrix])

    @property
    def dataloader(self) -> DataLoader:
        """DataLoader: The training loader of :attr:`task`."""
        task = self.task
        if self._loader is None or self._loader_task != task:
            self._loader = None  # free the previous task's data first
            self._loader = self._build_loader(self._train_template, task)
            self._loader_task = task
            self._loader_lengths[task] = len(self._loader)
            if hasattr(self._loader.dataset, 'metainfo'):
                self.runner.visualizer.dataset_meta = \
                    self._loader.dataset.metainfo
        return self._loader

    def task_dataloader_cfg(self, task: int, split: str = 'train') -> dict:
        """The dataloader config of a task, for hooks that build their own
        loader (e.g. over a past task's training data).

        Args:
            task (int): Index of the task.
            split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.

        Returns:
            dict: A deep copy of the template with ``dataset.task_id`` set.
        """
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        template = self._train_template if split == 'train' else \
            self._val_template
        if template is None:
            raise ValueError('there is no validation dataloader config')
        return self._task_cfg(template, task)

    def task_of_epoch(self, epoch: int) -> int:
        """The task that global epoch ``epoch`` (0-based) belongs to; the
        last task for ``epoch >= max_epochs``. Tasks with 0 epochs own no
        epoch: with ``max_epochs=[0, 2]`` epochs 0 and 1 belong to task 1."""
        task = bisect.bisect_right(self._task_starts, epoch) - 1
        return min(max(task, 0), self.num_tasks - 1)

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def run(self) -> torch.nn.Module:
        """Train the task sequence (see the class docstring)."""
        runner = self.runner
        task = self._check_progress()
        self._task = min(task, self.num_tasks - 1)
        runner.call_hook('before_train')
        while task < self.num_tasks and not self.stop_training:
            end = self._task_starts[task + 1]
            self._enter_task(task)
            while self._epoch < end and not self.stop_training:
                self.run_epoch()
                self._maybe_validate_current_task()
            if self._epoch < end:
                break
            self._finish_task(task)
            task += 1
        runner.call_hook('after_train')
        return runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch of the current task. Unlike mmengine's
        ``EpochBasedTrainLoop``, ``model.train()`` comes before
        ``before_train_epoch``."""
        self.runner.model.train()
        self.runner.call_hook('before_train_epoch')
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Iterate one mini-batch.

        Args:
            idx (int): Index of the batch in the epoch.
            data_batch (Sequence[dict]): Batch of data from the dataloader.
        """
        self.runner.call_hook(
            'before_train_iter', batch_idx=idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(
            data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.call_hook(
            'after_train_iter',
            batch_idx=idx,
            data_batch=data_batch,
            outputs=outputs)
        self._iter += 1

    def _check_progress(self) -> int:
        """The first task to work on, from the (possibly resumed) epoch and
        ``completed_tasks``; checks that they agree."""
        hub = self.runner.message_hub
        saved_epochs = hub.get_info(TASK_EPOCHS_KEY, None)
        if saved_epochs is not None and list(saved_epochs) != \
                self._task_epochs:
            raise RuntimeError(
                f'The checkpoint was trained with epochs per task '
                f'{list(saved_epochs)}, the config has {self._task_epochs}; '
                'the epoch -> task mapping would differ.')
        hub.update_info(TASK_EPOCHS_KEY, list(self._task_epochs))
        task = self.completed_tasks
        epoch = self._epoch
        if task >= self.num_tasks:
            if epoch != self.max_epochs:
                raise RuntimeError(
                    f'All {self.num_tasks} tasks are completed but the '
                    f'epoch is {epoch}, not {self.max_epochs}.')
            return task
        start, end = self._task_starts[task], self._task_starts[task + 1]
        if not start <= epoch <= end:
            raise RuntimeError(
                f'Inconsistent continual-learning state: {task} tasks are '
                f'completed (message hub {COMPLETED_KEY!r}), so the epoch '
                f'should be in [{start}, {end}], but it is {epoch}. Was the '
                'checkpoint written by TaskSequenceTrainLoop with the same '
                'tasks?')
        return task

    def _enter_task(self, task: int) -> None:
        """Make ``task`` current; start it (event, optimiser reset) unless
        it is resumed in the middle or at its end."""
        runner = self.runner
        self._task = task
        model = self._unwrapped_model()
        if hasattr(model, 'current_task'):
            model.current_task = task
        loader = self.dataloader
        start = self._task_starts[task]
        done = self._epoch - start
        if done == 0:
            if self._task_epochs[task] == 0:
                runner.logger.info(
                    f'Task {task}/{self.num_tasks - 1}: 0 epochs (not '
                    "trained: 'before_task', the evaluation and "
                    "'after_task' only).")
            else:
                runner.logger.info(
                    f'Task {task}/{self.num_tasks - 1}: '
                    f'{self._task_epochs[task]} epochs from global epoch '
                    f'{start + 1}.')
            runner.call_hook('before_task', task_index=task)
            self._reset_optimization(task)
        elif done < self._task_epochs[task]:
            runner.logger.info(
                f'Resuming task {task}/{self.num_tasks - 1} after '
                f'{done}/{self._task_epochs[task]} of its epochs (optimiser '
                'and schedulers as restored).')
        else:
            runner.logger.info(
                f'Resuming at the end of task {task}/{self.num_tasks - 1} '
                f'({done}/{self._task_epochs[task]} epochs): its evaluation '
                "and 'after_task' come first.")
        runner.optim_wrapper.initialize_count_status(
            runner.model, done * len(loader),
            self._task_epochs[task] * len(loader))

    def _reset_optimization(self, task: int) -> None:
        """Rebuild the optimiser wrapper and the parameter schedulers (no
        schedulers for a task with 0 epochs: mmengine's need ``end >
        begin``; ``runner.param_schedulers`` is None during such a task)."""
        runner = self.runner
        if self._optim_cfg is None:
            raise RuntimeError('TaskSequenceTrainLoop cannot reset the '
                               'optimiser: no optim_wrapper config')
        optim_cfg = _merge_dicts(self._optim_cfg,
                                 self.task_cfgs[task].get('optim_wrapper'))
        sched_cfg = self.task_cfgs[task].get('param_scheduler',
                                             self._sched_cfg)
        # scale_lr refuses to run while schedulers are built
        runner.param_schedulers = None
        runner.optim_wrapper = runner.build_optim_wrapper(optim_cfg)
        runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
        if sched_cfg is not None and self._task_epochs[task] > 0:
            runner.param_schedulers = runner.build_param_scheduler(
                self._task_scheduler_cfg(sched_cfg, task))

    def _task_scheduler_cfg(self, cfg: Any, task: int) -> Any:
        """Deep copy of a ``param_scheduler`` config with ``end`` defaulting
        to the task's epochs (iterations for ``by_epoch=False``)."""
        if isinstance(cfg, dict) and 'type' not in cfg:
            return {
                name: self._task_scheduler_cfg(sub, task)
                for name, sub in cfg.items()
            }
        if isinstance(cfg, dict):
            cfg = copy.deepcopy(cfg)
            if cfg.get('by_epoch', True):
                cfg.setdefault('end', self._task_epochs[task])
            else:
                cfg.setdefault('end',
                               self._task_epochs[task] * len(self.dataloader))
            return cfg
        return [self._task_scheduler_cfg(c, task) for c in cfg]

    def _finish_task(self, task: int) -> None:
        """Evaluate the tasks seen so far, store and report the accuracy
        matrix, fire 'after_task' and mark the task completed."""
        runner = self.runner
        matrix = self.accuracy_matrix
        if task >= self.val_begin_task:
            row = self._evaluate_seen_tasks(task)
            if row is not None:
                matrix[task][:task + 1] = row
        runner.message_hub.update_info(MATRIX_KEY, matrix)
        self._report(task, matrix)
        runner.call_hook('after_task', task_index=task)
        runner.message_hub.update_info(COMPLETED_KEY, task + 1)

    # ------------------------------------------------------------------
    # evaluation
    # ------------------------------------------------------------------
    def _evaluate_seen_tasks(self, task: int) -> Optional[List[float]]:
        """Row ``task`` of the accuracy matrix; None without validation."""
        if self._val_template is None or self.runner.val_loop is None:
            print_log(
                'TaskSequenceTrainLoop: no validation dataloader/evaluator, '
                f'row {task} of the accuracy matrix stays empty.',
                logger='current',
                level=logging.WARNING)
            return None
        row = []
        for seen in range(task + 1):
            metrics = self.evaluate_task(seen)
            if self.metric_key not in metrics:
                raise KeyError(
                    f'metric_key {self.metric_key!r} is not among the '
                    f'evaluator results {sorted(metrics)}')
            row.append(float(metrics[self.metric_key]))
        return row

    def evaluate_task(self, task: int) -> Dict[str, Any]:
        """Evaluate the model on the validation set of ``task`` with the
        runner's ``val_evaluator`` (eval mode, no gradients; the mode of
        every module is restored afterwards). Calls no hooks.

        Args:
            task (int): Index of the task.

        Returns:
            dict: The evaluator's results.
        """
        runner = self.runner
        loader = self._val_loader(task)
        evaluator = runner.val_evaluator
        if hasattr(loader.dataset, 'metainfo'):
            evaluator.dataset_meta = loader.dataset.metainfo
        modes = [(m, m.training) for m in runner.model.modules()]
        runner.model.eval()
        try:
            with torch.no_grad():
                for data_batch in loader:
                    outputs = runner.model.val_step(data_batch)
                    evaluator.process(
                        data_samples=outputs, data_batch=data_batch)
            return evaluator.evaluate(len(loader.dataset))
        finally:
            for module, training in modes:
                module.training = training

    def _maybe_validate_current_task(self) -> None:
        """Optional per-epoch validation of the current task."""
        task = self._task
        done = self._epoch - self._task_starts[task]
        if (self.val_interval <= 0 or task < self.val_begin_task
                or done % self.val_interval != 0
                or done == self._task_epochs[task]
                or self._val_template is None or self.runner.val_loop is None):
            return
        metrics = self.evaluate_task(task)
        text = ', '.join(
            f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}'
            for k, v in metrics.items())
        self.runner.logger.info(
            f'Epoch {self._epoch} (task {task}, epoch {done}/'
            f'{self._task_epochs[task]}) validation on task {task}: {text}')
        for key, value in metrics.items():
            if isinstance(value, (int, float)):
                self.runner.message_hub.update_scalar(f'val/task{task}/{key}',
                                                      value)

    # ------------------------------------------------------------------
    # reporting
    # ------------------------------------------------------------------
    def _report(self, task: int, matrix: List[List[Optional[float]]]) -> None:
        """Log the matrix and the metrics after ``task``; write the files."""
        # imported here: mmdl.evaluation may import mmdl.engine
        from mmdl.evaluation.metrics.continual import continual_metrics

        runner = self.runner
        seen = [row[:task + 1] for row in matrix[:task + 1]]
        metrics = continual_metrics(seen)

        def fmt(value: Optional[float]) -> str:
            return '     -' if value is None else f'{value:6.2f}'

        lines = [
            f'Accuracy matrix ({self.metric_key}) after task {task}; row i: '
            'after training task i, column j: task j'
        ]
        for i, row in enumerate(matrix):
            cells = ' '.join(fmt(v) for v in row)
            lines.append(f'  after task {i}: {cells}')
        runner.logger.info('\n'.join(lines))
        runner.logger.info(
            f'Continual metrics after task {task} (tasks 0..{task}): '
            f'ACC {fmt(metrics["ACC"]).strip()}, '
            f'BWT {fmt(metrics["BWT"]).strip()}, '
            f'forgetting {fmt(metrics["forgetting"]).strip()}')
        scalars = {
            f'continual/{name}': metrics[name]
            for name in ('ACC', 'BWT', 'forgetting')
            if metrics[name] is not None
        }
        for key, value in scalars.items():
            runner.message_hub.update_scalar(key, value)
        if scalars:
            runner.visualizer.add_scalars(scalars, step=task + 1)
        if self.save_results and is_main_process():
            averages = continual_metrics(matrix)['row_averages']
            result = dict(
                metric=self.metric_key,
                num_tasks=self.num_tasks,
                tasks_learned=task + 1,
                epoch=self._epoch,
                accuracy_matrix=matrix,
                ACC=metrics['ACC'],
                BWT=metrics['BWT'],
                forgetting=metrics['forgetting'],
                row_averages=averages)
            with open(osp.join(runner.work_dir, METRICS_FILE), 'w') as f:
                json.dump(result, f, indent=2)
            self._plot(matrix, metrics,
                       osp.join(runner.work_dir, MATRIX_PLOT_FILE))

    def _plot(self, matrix: List[List[Optional[float]]], metrics: dict,
              path: str) -> None:
        """Heat map of the accuracy matrix with the values in the cells."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        array = np.array([[np.nan if v is None else v for v in row]
                          for row in matrix],
                         dtype=np.float64)
        size = len(array)
        fig = Figure(figsize=(1.0 + 0.9 * size, 0.8 + 0.8 * size))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        finite = array[np.isfinite(array)]
        low, high = ((float(finite.min()),
                      float(finite.max())) if finite.size else (0.0, 1.0))
        if math.isclose(low, high):
            low, high = low - 1.0, high + 1.0
        image = ax.imshow(
            np.ma.masked_invalid(array), cmap='viridis', vmin=low, vmax=high)
        fig.colorbar(image, ax=ax, label=self.metric_key)
        for i in range(size):
            for j in range(size):
                if np.isfinite(array[i, j]):
                    bright = (array[i, j] - low) / (high - low) > 0.6
                    ax.text(
                        j,
                        i,
                        f'{array[i, j]:.1f}',
                        ha='center',
                        va='center',
                        fontsize=8,
                        color='black' if bright else 'white')
        ax.set_xticks(range(size))
        ax.set_yticks(range(size))
        ax.set_xlabel('evaluated on task j')
        ax.set_ylabel('after training task i')

        def fmt(value):
            return '-' if value is None else f'{value:.2f}'

        ax.set_title(
            f'ACC {fmt(metrics["ACC"])}  BWT {fmt(metrics["BWT"])}'
            f'  F {fmt(metrics["forgetting"])}',
            fontsize=9)
        fig.tight_layout()
        fig.savefig(path, dpi=100)

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------
    def _unwrapped_model(self) -> torch.nn.Module:
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

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

    def _task_cfg(self, template: dict, task: int) -> dict:
        cfg = copy.deepcopy(template)
        cfg['dataset'][self.task_key] = task
        return cfg

    def _build_loader(self, template: dict, task: int) -> DataLoader:
        runner = self.runner
        diff_rank_seed = runner._randomness_cfg.get('diff_rank_seed', False)
        return runner.build_dataloader(
            self._task_cfg(template, task),
            seed=runner.seed,
            diff_rank_seed=diff_rank_seed)

    def _val_loader(self, task: int) -> DataLoader:
        if task not in self._val_loaders:
            runner = self.runner
            cfg = self._task_cfg(self._val_template, task)
            val_loop = runner._val_loop
            if (isinstance(val_loop, BaseLoop)
                    and runner._val_dataloader == cfg):
                # the runner's validation loop was built from this config
                self._val_loaders[task] = val_loop.dataloader
            else:
                self._val_loaders[task] = self._build_loader(
                    self._val_template, task)
        return self._val_loaders[task]

    def _prepare_val_template(self) -> Optional[dict]:
        """Keep the validation template; give the runner's own validation
        loader task 0 when the template has no task index."""
        runner = self.runner
        template = getattr(runner, '_val_dataloader', None)
        if not isinstance(template, dict):
            if template is not None:
                print_log(
                    'TaskSequenceTrainLoop: val_dataloader is not a config '
                    'dict; the accuracy matrix is not evaluated.',
                    logger='current',
                    level=logging.WARNING)
            return None
        template = copy.deepcopy(template)
        if (isinstance(template.get('dataset'), dict)
                and self.task_key not in template['dataset'] and
                not isinstance(getattr(runner, '_val_loop', None), BaseLoop)):
            runner._val_dataloader = self._task_cfg(template, 0)
        return template
