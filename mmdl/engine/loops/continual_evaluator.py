# Copyright (c) mmdl contributors. All rights reserved.
"""The accuracy matrix of a task sequence: evaluation and report."""
import json
import logging
import os.path as osp
from typing import Any, Callable, Dict, List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from torch.utils.data import DataLoader

from mmdl.evaluation.metrics.continual import continual_metrics
from mmdl.visualization import save_accuracy_matrix

#: Files written to the work directory after every task.
METRICS_FILE = 'continual_metrics.json'
MATRIX_PLOT_FILE = 'accuracy_matrix.png'
#: Metrics stored as message-hub and visualizer scalars ``continual/<name>``.
SCALAR_METRICS = ('ACC', 'BWT', 'forgetting')

Matrix = List[List[Optional[float]]]
LoaderOf = Callable[[int], DataLoader]


def _fmt(value: Optional[float]) -> str:
    return '     -' if value is None else f'{value:6.2f}'


class ContinualEvaluator:
    """Evaluates the tasks seen so far after each task into the accuracy
    matrix ``R`` and reports it.

    After task ``t``, before the 'after_task' event, the loop calls
    :meth:`evaluate_row`: tasks ``j = 0..t`` are evaluated with the
    runner's ``val_evaluator`` on their validation loaders
    (:meth:`evaluate`) and ``R[t][j]`` gets the ``metric_key`` result; row
    ``t`` stays empty without validation or for ``t < val_begin_task``.
    Then :meth:`report` logs ``R`` with the metrics of
    :func:`~mmdl.evaluation.metrics.continual_metrics` over tasks
    ``0..t``; ACC, BWT and forgetting become message-hub scalars
    ``continual/<name>`` and visualizer scalars (step ``t + 1``); on the
    main process ``work_dir/continual_metrics.json`` and
    ``work_dir/accuracy_matrix.png`` (titled with :func:`run_name`) are
    written.

    Args:
        metric_key (str): The evaluator result held in ``R``.
        val_begin_task (int): The first task after which a row is
            evaluated (and :meth:`after_epoch` validates). Defaults to 0.
        val_interval (int): :meth:`after_epoch` validates the current task
            every ``val_interval`` epochs of the task, except after its
            last; 0 (default) never.
        save_results (bool): Write the files. Defaults to True.
    """

    def __init__(self,
                 metric_key: str = 'accuracy/top1',
                 val_begin_task: int = 0,
                 val_interval: int = 0,
                 save_results: bool = True) -> None:
        self.metric_key = metric_key
        self.val_begin_task = int(val_begin_task)
        self.val_interval = int(val_interval)
        self.save_results = save_results

    @staticmethod
    def evaluate(runner, loader: DataLoader) -> Dict[str, Any]:
        """Evaluate ``runner.model`` on ``loader`` with the runner's
        ``val_evaluator`` (eval mode, no gradients; the mode of every
        module is restored afterwards). Calls no hooks.

        Returns:
            dict: The evaluator's results.
        """
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

    def evaluate_row(self, runner, task: int, matrix: Matrix,
                     val_loader: Optional[LoaderOf]) -> Matrix:
        """Fill row ``task`` of ``matrix``: ``R[task][j]`` for
        ``j = 0..task`` (left empty for ``task < val_begin_task`` or
        without validation).

        Args:
            runner (Runner): The runner.
            task (int): The task just trained.
            matrix (list[list[float | None]]): ``R`` (T x T), updated.
            val_loader (callable, optional): Task index -> validation
                loader; None without a validation dataloader config.

        Returns:
            list[list[float | None]]: ``matrix``.
        """
        if task < self.val_begin_task:
            return matrix
        if not self._can_validate(runner, val_loader):
            print_log(
                'TaskSequenceTrainLoop: no validation dataloader/evaluator, '
                f'row {task} of the accuracy matrix stays empty.',
                logger='current',
                level=logging.WARNING)
            return matrix
        matrix[task][:task + 1] = [
            self._metric(self.evaluate(runner, val_loader(seen)))
            for seen in range(task + 1)
        ]
        return matrix

    def after_epoch(self, runner, task: int, epoch_in_task: int,
                    task_epochs: int, val_loader: Optional[LoaderOf]) -> None:
        """Validate the current task within the task when due: log the
        results and store them as message-hub scalars
        ``val/task{task}/<key>``.

        Args:
            runner (Runner): The runner.
            task (int): The current task.
            epoch_in_task (int): Epochs of the task done.
            task_epochs (int): Epochs of the task.
            val_loader (callable, optional): As in :meth:`evaluate_row`.
        """
        if (self.val_interval <= 0 or task < self.val_begin_task
                or epoch_in_task % self.val_interval != 0
                or epoch_in_task == task_epochs
                or not self._can_validate(runner, val_loader)):
            return
        metrics = self.evaluate(runner, val_loader(task))
        text = ', '.join(
            f'{k}: {v:.4f}' if isinstance(v, float) else f'{k}: {v}'
            for k, v in metrics.items())
        runner.logger.info(
            f'Epoch {runner.epoch} (task {task}, epoch {epoch_in_task}/'
            f'{task_epochs}) validation on task {task}: {text}')
        for key, value in metrics.items():
            if isinstance(value, (int, float)):
                runner.message_hub.update_scalar(f'val/task{task}/{key}',
                                                 value)

    def report(self, runner, task: int, matrix: Matrix) -> None:
        """Log ``matrix`` and its metrics after ``task``, store the scalars
        and write the files."""
        seen = [row[:task + 1] for row in matrix[:task + 1]]
        metrics = continual_metrics(seen)
        lines = [
            f'Accuracy matrix ({self.metric_key}) after task {task}; row i: '
            'after training task i, column j: task j'
        ]
        for i, row in enumerate(matrix):
            cells = ' '.join(_fmt(v) for v in row)
            lines.append(f'  after task {i}: {cells}')
        runner.logger.info('\n'.join(lines))
        runner.logger.info(
            f'Continual metrics after task {task} (tasks 0..{task}): '
            f'ACC {_fmt(metrics["ACC"]).strip()}, '
            f'BWT {_fmt(metrics["BWT"]).strip()}, '
            f'forgetting {_fmt(metrics["forgetting"]).strip()}')
        scalars = {
            f'continual/{name}': metrics[name]
            for name in SCALAR_METRICS if metrics[name] is not None
        }
        for key, value in scalars.items():
            runner.message_hub.update_scalar(key, value)
        if scalars:
            runner.visualizer.add_scalars(scalars, step=task + 1)
        if self.save_results and is_main_process():
            self._write(runner, task, matrix, metrics)

    @staticmethod
    def _can_validate(runner, val_loader: Optional[LoaderOf]) -> bool:
        return val_loader is not None and runner.val_loop is not None

    def _metric(self, metrics: Dict[str, Any]) -> float:
        if self.metric_key not in metrics:
            raise KeyError(f'metric_key {self.metric_key!r} is not among the '
                           f'evaluator results {sorted(metrics)}')
        return float(metrics[self.metric_key])

    def _write(self, runner, task: int, matrix: Matrix,
               metrics: Dict[str, Any]) -> None:
        result = dict(
            metric=self.metric_key,
            num_tasks=len(matrix),
            tasks_learned=task + 1,
            epoch=runner.epoch,
            accuracy_matrix=matrix,
            ACC=metrics['ACC'],
            BWT=metrics['BWT'],
            forgetting=metrics['forgetting'],
            row_averages=continual_metrics(matrix)['row_averages'])
        with open(osp.join(runner.work_dir, METRICS_FILE), 'w') as f:
            json.dump(result, f, indent=2)
        save_accuracy_matrix(
            osp.join(runner.work_dir, MATRIX_PLOT_FILE),
            matrix,
            self.metric_key,
            metrics,
            title=run_name(runner))


def run_name(runner) -> Optional[str]:
    """Name of the run for the plot title: the stem of the config file
    (``runner.cfg.filename``), else ``runner.experiment_name``, else None."""
    filename = getattr(getattr(runner, 'cfg', None), 'filename', None)
    if filename:
        return osp.splitext(osp.basename(filename))[0]
    return getattr(runner, 'experiment_name', None)
