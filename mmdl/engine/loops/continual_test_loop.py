# Copyright (c) mmdl contributors. All rights reserved.
"""Test a task-sequence checkpoint on every task it has been trained on."""
import copy
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from mmengine.runner.amp import autocast
from torch.utils.data import DataLoader

from mmdl.registry import LOOPS
from .task_schedule import TaskSchedule

#: File written to the run's log directory.
RESULTS_FILE = 'continual_test.json'


@LOOPS.register_module()
class ContinualTestLoop(BaseLoop):
    """Evaluate a checkpoint of a :class:`TaskSequenceTrainLoop` run on the
    test set of every task it has trained: row ``k`` of the accuracy
    matrix for a checkpoint that has finished task ``k``, and ACC (the mean
    of that row). ``tools/test.py`` uses it for every config whose
    ``train_cfg`` is a task sequence (``--task K`` evaluates task K only).

    The ``test_dataloader`` is a template: task ``t`` uses
    ``dataset[task_key] = t``. The checkpoint's task is read from the
    epoch in its ``meta`` (see :class:`~.task_schedule.TaskSchedule`); a
    checkpoint in the middle of a task is evaluated on the tasks up to
    that one. The model's ``current_task`` is set to the checkpoint's
    task, as in training. Results are logged per task and written to
    ``<log_dir>/continual_test.json``.

    Args:
        runner (MMDLRunner): The runner.
        dataloader (dict): The ``test_dataloader`` config (template).
        evaluator (dict | list | Evaluator): The ``test_evaluator``.
        num_tasks (int): Tasks of the sequence (``train_cfg.num_tasks``).
        max_epochs (int | Sequence[int]): ``train_cfg.max_epochs``.
        task (int, optional): Evaluate this task only. Defaults to None.
        task_key (str): Dataset argument holding the task index. Defaults
            to ``'task_id'``.
        metric_key (str): Result used for the row and ACC. Defaults to
            ``'accuracy/top1'``.
        fp16 (bool): Test under autocast. Defaults to False.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[dict, DataLoader],
                 evaluator,
                 num_tasks: int,
                 max_epochs: Union[int, Sequence[int]],
                 task: Optional[int] = None,
                 task_key: str = 'task_id',
                 metric_key: str = 'accuracy/top1',
                 fp16: bool = False) -> None:
        # BaseLoop.__init__ is not called: it would build the template.
        self._runner = runner
        if not isinstance(dataloader, dict):
            raise TypeError('ContinualTestLoop needs the test_dataloader '
                            'config (a template per task), not a built '
                            f'{type(dataloader).__name__}')
        self._template = copy.deepcopy(dataloader)
        self._schedule = TaskSchedule(num_tasks, max_epochs)
        if task is not None and not 0 <= task < self._schedule.num_tasks:
            raise ValueError(f'--task {task}: the sequence has tasks 0..'
                             f'{self._schedule.num_tasks - 1}')
        self.task = task
        self.task_key = task_key
        self.metric_key = metric_key
        self.fp16 = fp16
        self.evaluator = runner.build_evaluator(evaluator)
        self._loader: Optional[DataLoader] = None

    @property
    def dataloader(self) -> Optional[DataLoader]:
        """DataLoader: The loader of the task being tested (mmengine reads
        it as ``runner.test_dataloader``); None before :meth:`run`."""
        return self._loader

    def tasks_of_checkpoint(self, epoch: int) -> List[int]:
        """The tasks to evaluate for a checkpoint after ``epoch`` epochs:
        every task up to the last one it has trained (0-epoch tasks up to
        ``epoch`` count as trained), or :attr:`task`."""
        if self.task is not None:
            return [self.task]
        starts = self._schedule.starts
        trained = [
            t for t in range(self._schedule.num_tasks)
            if starts[t] < epoch or starts[t + 1] <= epoch
        ]
        return list(range(trained[-1] + 1)) if trained else [0]

    def task_loader(self, task: int) -> DataLoader:
        """A new test loader of ``task``."""
        cfg = copy.deepcopy(self._template)
        cfg['dataset'][self.task_key] = task
        runner = self.runner
        return runner.build_dataloader(cfg, seed=runner.seed)

    def run(self) -> Dict[str, float]:
        """Evaluate the tasks; returns ``task_<t>/<metric>`` for every
        metric of every task, plus ``ACC`` when several tasks are
        evaluated."""
        runner = self.runner
        meta = runner.loaded_checkpoint_meta or {}
        epoch = int(meta.get('epoch', self._schedule.total))
        tasks = self.tasks_of_checkpoint(epoch)
        last = self._schedule.task_after(epoch)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if hasattr(model, 'current_task'):
            model.current_task = last
        runner.call_hook('before_test')
        results: Dict[str, float] = {}
        row = []
        for task in tasks:
            runner.logger.info(f'Testing task {task} (checkpoint after '
                               f'epoch {epoch}, task {last})')
            metrics = self._run_task(self.task_loader(task))
            results.update(
                {f'task_{task}/{k}': v
                 for k, v in metrics.items()})
            row.append(float(metrics[self.metric_key]))
            runner.logger.info(f'Task {task}: {self.metric_key} '
                               f'{row[-1]:.2f}')
        if len(tasks) > 1:
            results['ACC'] = sum(row) / len(row)
        runner.logger.info('Continual test: ' + ', '.join(
            f'task {t} {v:.2f}' for t, v in zip(tasks, row)) + (
                f"; ACC {results['ACC']:.2f}" if 'ACC' in results else ''))
        self._write(epoch, last, tasks, row, results)
        runner.call_hook('after_test')
        return results

    def _run_task(self, loader: DataLoader) -> Dict[str, float]:
        runner = self.runner
        self._loader = loader
        if hasattr(loader.dataset, 'metainfo'):
            self.evaluator.dataset_meta = loader.dataset.metainfo
        runner.call_hook('before_test_epoch')
        runner.model.eval()
        for idx, data_batch in enumerate(loader):
            runner.call_hook(
                'before_test_iter', batch_idx=idx, data_batch=data_batch)
            with torch.no_grad(), autocast(enabled=self.fp16):
                outputs = runner.model.test_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
            runner.call_hook(
                'after_test_iter',
                batch_idx=idx,
                data_batch=data_batch,
                outputs=outputs)
        metrics = self.evaluator.evaluate(len(loader.dataset))
        if self.metric_key not in metrics:
            raise KeyError(f'ContinualTestLoop: metric_key '
                           f'{self.metric_key!r} is not among the test '
                           f'results {sorted(metrics)}')
        runner.call_hook('after_test_epoch', metrics=metrics)
        return metrics

    def _write(self, epoch: int, last: int, tasks: List[int],
               row: List[float], results: Dict[str, float]) -> None:
        runner = self.runner
        if runner.rank != 0:
            return
        record = dict(
            checkpoint_epoch=epoch,
            checkpoint_task=last,
            tasks=tasks,
            metric_key=self.metric_key,
            row=row,
            ACC=results.get('ACC'),
            metrics={k: float(v)
                     for k, v in results.items()})
        with open(osp.join(runner.log_dir, RESULTS_FILE), 'w') as f:
            json.dump(record, f, indent=2)
