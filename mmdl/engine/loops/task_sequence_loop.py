# Copyright (c) mmdl contributors. All rights reserved.
"""Train a model on a sequence of tasks (continual learning).

Epochs and iterations are global (``epoch`` counts the epochs of the whole
sequence, see :class:`~.task_schedule.TaskSchedule`), so ``CheckpointHook``
writes ``epoch_1.pth .. epoch_N.pth`` across tasks and ``EpochSeedHook`` and
``DefaultSampler`` see distinct epochs. The loop controls the tasks and
resuming; it delegates the data of the tasks to
:class:`~.task_data.TaskDataloaders`, the optimiser and schedulers to
:class:`~.task_optim.TaskOptimization` and the accuracy matrix to
:class:`~.continual_evaluator.ContinualEvaluator`.
"""
import copy
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from torch import nn
from torch.utils.data import DataLoader, Dataset

from mmdl.registry import LOOPS
from .continual_evaluator import ContinualEvaluator
from .task_data import TaskDataloaders
from .task_optim import TaskOptimization
from .task_resume import (COMPLETED_KEY, MATRIX_KEY, SEQUENCE_KEY,
                          check_sequence, describe_task, restore_progress)
from .task_schedule import TaskSchedule


@LOOPS.register_module()
class TaskSequenceTrainLoop(BaseLoop):
    """Epoch-based training on a sequence of tasks, with the accuracy
    matrix ``R[i][j]`` (accuracy on task ``j`` after training task ``i``).

    Usage::

        train_cfg = dict(type='TaskSequenceTrainLoop', num_tasks=3,
                         max_epochs=2)  # or one number per task: [0, 30]
        val_cfg = dict()

    ``train_dataloader``/``val_dataloader`` are templates: task ``t`` uses
    ``dataset.task_id = t``. Per task ``t``: ``before_task(task_index=t)``
    (hooks may call :meth:`replace_task_dataset` or :meth:`set_model`), a
    fresh optimiser and fresh schedulers, the task's epochs
    (``model.train()`` comes before ``before_train_epoch``), tasks ``0..t``
    evaluated into row ``t`` of ``R``, ``after_task(task_index=t)``, then
    the task is completed.

    Resuming: ``R``, the completed tasks and the epochs per task are
    message-hub runtime information, hence in every checkpoint. A task
    resumed in the middle gets no 'before_task' and keeps the restored
    optimiser and schedulers; from the checkpoint of a task's last epoch,
    that task's evaluation and 'after_task' come first. Dataset
    replacements are not in checkpoints: re-apply them in 'before_train'.
    A checkpoint is refused if a task it has started differs from the
    config (see :mod:`.task_resume`); tasks may be appended to a
    finished sequence (resume with a larger ``num_tasks``).

    Args:
        runner (MMDLRunner): The runner.
        dataloader (dict): The training dataloader template.
        num_tasks (int): Number of tasks.
        max_epochs (int | Sequence[int]): Epochs of every task, or one
            number per task (0: evaluated, not trained; not for all).
        val_begin_task (int): The first task after which a row of ``R`` is
            evaluated (and per-epoch validation runs). Defaults to 0.
        val_interval (int): Validate the current task every
            ``val_interval`` epochs of a task (not after its last); 0
            (default) disables it.
        metric_key (str): The evaluator result stored in ``R``. Defaults
            to ``'accuracy/top1'``.
        task_cfgs (Sequence[dict | None], optional): Per task, optional
            ``optim_wrapper`` (merged into the ``optim_wrapper`` config)
            and ``param_scheduler`` (replaces the ``param_scheduler``
            config, same scheduler types). Defaults to None.
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
        self._schedule = TaskSchedule(num_tasks, max_epochs)
        self.num_tasks = self._schedule.num_tasks
        self.val_begin_task = int(val_begin_task)
        self.val_interval = int(val_interval)
        self.val_begin = 1  # read by mmengine; validation is per task here
        self.metric_key = metric_key
        self.stop_training = False  # set by EarlyStoppingHook
        self._data = TaskDataloaders(runner, dataloader, task_key)
        self._optim = TaskOptimization(runner, self._schedule.epochs,
                                       task_cfgs)
        self.task_cfgs = self._optim.task_cfgs
        self._evaluator = ContinualEvaluator(metric_key, val_begin_task,
                                             val_interval, save_results)
        self._epoch = 0
        self._iter = 0
        self._task: Optional[int] = None
        # whether a task's epochs run with that task's optimiser
        self._training = False
        self._data.use_train(self.task)

    @property
    def max_epochs(self) -> int:
        """int: Epochs of the whole sequence."""
        return self._schedule.total

    @property
    def max_iters(self) -> int:
        """int: Iterations of the whole sequence: exact for the tasks whose
        training loader was built; another task is assumed as long as the
        last built task before it (the first built one if none is)."""
        known = self._data.train_lengths
        total, last = 0, known[min(known)]
        for task, epochs in enumerate(self._schedule.epochs):
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
        """int: The current task; before :meth:`run`, the task of the last
        epoch trained (0 at the start)."""
        if self._task is not None:
            return self._task
        return self._schedule.task_after(self._epoch)

    @property
    def task_epochs(self) -> List[int]:
        """list[int]: Epochs of every task."""
        return list(self._schedule.epochs)

    @property
    def task_start_epochs(self) -> List[int]:
        """list[int]: First global epoch of every task, plus the total."""
        return list(self._schedule.starts)

    @property
    def completed_tasks(self) -> int:
        """int: Tasks whose evaluation and 'after_task' event are done."""
        return int(self.runner.message_hub.get_info(COMPLETED_KEY, 0))

    @property
    def accuracy_matrix(self) -> List[List[Optional[float]]]:
        """list[list[float | None]]: A copy of ``R`` (None: not measured)."""
        matrix = self.runner.message_hub.get_info(MATRIX_KEY, None)
        if matrix is None:
            return [[None] * self.num_tasks for _ in range(self.num_tasks)]
        return copy.deepcopy([list(row) for row in matrix])

    @property
    def dataloader(self) -> DataLoader:
        """DataLoader: The current task's training loader (mmengine reads
        it as ``runner.train_dataloader``)."""
        return self._data.train_loader

    def task_dataloader(self,
                        task: Optional[int] = None,
                        split: str = 'train') -> DataLoader:
        """The loader of a task, with its replaced dataset if any.

        Args:
            task (int, optional): Index of the task; the current one by
                default.
            split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.

        Returns:
            DataLoader: The loader used for training for the current task's
            training split; other training loaders are built anew,
            validation loaders are cached.
        """
        task = self.task if task is None else task
        if split == 'train' and task == self.task:
            return self._data.use_train(task)
        if split == 'train':
            return self._data.build(task, 'train')
        return self._data.val_loader(task)

    def task_dataloader_cfg(self, task: int, split: str = 'train') -> dict:
        """The dataloader config of a task (``dataset.task_id`` set, or the
        replaced dataset), for hooks that build their own loader."""
        return self._data.cfg(task, split)

    def replace_task_dataset(self,
                             task: int,
                             dataset: Union[Dataset, dict],
                             split: str = 'train') -> None:
        """Replace the dataset of one task and split, from the next build
        of that loader on; for the current task up to its 'before_task'
        (the loop rebuilds the training loader after that event). Not
        saved in checkpoints: re-apply it on resume ('before_train').

        Args:
            task (int): Index of the task.
            dataset (Dataset | dict): A built dataset or a dataset config,
                used as given (no ``task_id`` is set).
            split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.

        Raises:
            RuntimeError: The task has started (its training loader is in
                use).
        """
        self._data.replace(task, dataset, split)

    def set_model(self, model: nn.Module) -> None:
        """Replace ``runner.model`` (e.g. in 'before_task'): moved to the
        device and wrapped like the runner does. The optimiser and
        schedulers rebuilt after 'before_task' optimise its parameters.

        Args:
            model (nn.Module): The new, unwrapped model.

        Raises:
            RuntimeError: A task's epochs are running (or resumed): their
                optimiser would not update the new parameters.
        """
        if self._training:
            raise RuntimeError(
                f'set_model: task {self.task} is training; change the '
                "model in 'before_task' or between tasks.")
        runner = self.runner
        runner.model = runner.wrap_model(
            runner.cfg.get('model_wrapper_cfg'), model)
        self._set_model_task(self.task)

    def task_of_epoch(self, epoch: int) -> int:
        """The task of global epoch ``epoch`` (0-based); see
        :class:`~.task_schedule.TaskSchedule`."""
        return self._schedule.task_of_epoch(epoch)

    def prepare_resume(self, epoch: int) -> None:
        """Switch to the training loader of the task of the resumed
        ``epoch``; :class:`~mmdl.engine.MMDLRunner` calls it before
        mmengine compares the checkpoint's dataset meta with it."""
        self._data.use_train(self._schedule.task_after(epoch))

    def task_records(self) -> List[dict]:
        """Every task's :func:`~.task_resume.describe_task` record."""
        return [
            describe_task(epochs, self._optim.task_optim_cfg(task),
                          self._optim.task_scheduler_cfg(task),
                          self._data.template_cfg(task)['dataset'])
            for task, epochs in enumerate(self.task_epochs)
        ]

    def checkpoint_meta(self) -> dict:
        """The task records, for the ``meta`` of every checkpoint."""
        return {SEQUENCE_KEY: self.task_records()}

    def check_resumable(self, meta: dict, filename: str) -> None:
        """Raise ``ConfigError`` for a checkpoint (``meta``, ``filename``)
        of another task sequence; the runner calls it before loading."""
        check_sequence(meta, self.task_records(), filename,
                       self.runner.logger)

    def run(self) -> nn.Module:
        """Train the task sequence."""
        runner = self.runner
        task = self._check_progress()
        self._task = min(task, self.num_tasks - 1)
        # resumed in the middle of a task: its restored optimiser is in use
        starts = self._schedule.starts
        self._training = (
            task < self.num_tasks
            and starts[task] < self._epoch < starts[task + 1])
        runner.call_hook('before_train')
        while task < self.num_tasks and not self.stop_training:
            end = self._schedule.starts[task + 1]
            self._enter_task(task)
            while self._epoch < end and not self.stop_training:
                self.run_epoch()
                self._evaluator.after_epoch(
                    runner, task, self._epoch - self._schedule.starts[task],
                    self._schedule.epochs[task], self._val_loaders())
            if self._epoch < end:
                break
            self._training = False
            self._finish_task(task)
            task += 1
        runner.call_hook('after_train')
        return runner.model

    def run_epoch(self) -> None:
        """Iterate one epoch of the current task."""
        self.runner.model.train()
        self.runner.call_hook('before_train_epoch')
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Sequence[dict]) -> None:
        """Iterate one mini-batch (index ``idx`` in the epoch)."""
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

    def evaluate_task(self, task: int) -> Dict[str, Any]:
        """Evaluate the model on the validation set of ``task`` with the
        runner's ``val_evaluator`` (eval mode, no gradients, modes
        restored; no hooks) and return the evaluator's results."""
        return self._evaluator.evaluate(self.runner,
                                        self._data.val_loader(task))

    def _check_progress(self) -> int:
        """The first task to work on, from the (possibly resumed) epoch and
        ``completed_tasks``; checks that they agree."""
        restore_progress(self.runner.message_hub, self.task_epochs,
                         self._epoch)
        self._schedule.check_progress(self._epoch, self.completed_tasks)
        return self.completed_tasks

    def _enter_task(self, task: int) -> None:
        """Make ``task`` current; start it ('before_task', fresh optimiser)
        unless it is resumed in the middle or at its end."""
        runner = self.runner
        self._task = task
        self._data.freeze(None)
        self._set_model_task(task)
        self._data.use_train(task)
        epochs = self._schedule.epochs[task]
        done = self._epoch - self._schedule.starts[task]
        name = f'{task} ({task + 1} of {self.num_tasks})'
        if done == 0:
            if epochs == 0:
                runner.logger.info(
                    f"Task {name}: 0 epochs (not trained: 'before_task', the "
                    "evaluation and 'after_task' only).")
            else:
                runner.logger.info(f'Task {name}: {epochs} epochs from '
                                   f'global epoch {self._epoch + 1}.')
            runner.call_hook('before_task', task_index=task)
            self._data.use_train(task)  # rebuilt if the dataset was replaced
            self._optim.reset(task, len(self.dataloader))
        elif done < epochs:
            runner.logger.info(
                f'Resuming task {name} after {done}/{epochs} of its epochs '
                '(optimiser and schedulers as restored).')
        else:
            runner.logger.info(
                f'Resuming at the end of task {name}, {done}/{epochs} '
                "epochs: its evaluation and 'after_task' come first.")
        self._data.freeze(task)
        self._training = done < epochs
        length = len(self.dataloader)
        runner.optim_wrapper.initialize_count_status(runner.model,
                                                     done * length,
                                                     epochs * length)

    def _finish_task(self, task: int) -> None:
        """Evaluate tasks ``0..task`` into ``R``, report it, fire
        'after_task' and mark the task completed."""
        runner = self.runner
        matrix = self._evaluator.evaluate_row(runner, task,
                                              self.accuracy_matrix,
                                              self._val_loaders())
        runner.message_hub.update_info(MATRIX_KEY, matrix)
        self._evaluator.report(runner, task, matrix)
        runner.call_hook('after_task', task_index=task)
        runner.message_hub.update_info(COMPLETED_KEY, task + 1)

    def _val_loaders(self) -> Optional[Callable[[int], DataLoader]]:
        """Task -> validation loader; None without a validation config."""
        return self._data.val_loader if self._data.has_val else None

    def _set_model_task(self, task: int) -> None:
        """``current_task = task`` on the unwrapped model if it has one."""
        model = self.runner.model
        model = model.module if is_model_wrapper(model) else model
        if hasattr(model, 'current_task'):
            model.current_task = task
