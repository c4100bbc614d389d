# Copyright (c) mmdl contributors. All rights reserved.
"""A test loop that adds piggyback-learning (PL) accuracy to the usual
test metrics."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.dist import all_gather_object, get_dist_info, is_main_process
from mmengine.model import is_model_wrapper
from mmengine.registry import FUNCTIONS
from mmengine.runner import TestLoop
from mmengine.utils import ProgressBar
from torch.utils.data import DataLoader

from mmdl.evaluation.piggyback import (PL_MODES, PiggybackTask, accuracy,
                                       piggyback_accuracy, subset, summarise)
from mmdl.registry import DATASETS, LOOPS
from mmdl.utils.config_checks import ConfigError

#: Feature extractors PL accuracy is measured on: the tested model and the
#: references.
SUBJECTS = ('model', 'pretrained', 'random')


@LOOPS.register_module()
class PiggybackTestLoop(TestLoop):
    """mmengine's test loop, then the piggyback-learning protocol of
    disposable transfer learning.

    1. The usual test metrics on ``test_dataloader`` (the target task).
    2. ``source/accuracy``: the model's source head on the test set of
       task ``source_task`` (how much of the source task the old head still
       solves).
    3. For every task in ``tasks``, retraining mode in ``modes`` and seed
       in ``seeds``: a copy of the model's feature extractor with a new
       linear head is retrained on the task's training set (a
       class-balanced ``fraction`` of it, drawn with ``subset_seed``) and
       tested on its test set (see
       :func:`mmdl.evaluation.piggyback.piggyback_accuracy`). The same is
       done for each of ``references``: ``'pretrained'`` (the source
       checkpoint's extractor, maximal leakage) and ``'random'`` (a fresh
       initialisation with the job's seed, the floor).

    Metrics: ``pl/{task}/{mode}/{model|pretrained|random}`` (mean over the
    seeds, percent) with ``..._std``, and ``leakage/{task}/{mode}`` =
    ``(PL - PL_random) / (PL_pretrained - PL_random)``. Per-seed values go
    to ``piggyback.json`` in the run's log directory. A progress bar runs
    over the retraining epochs. Under distributed testing the retraining
    jobs are spread over the ranks and their results gathered.

    The model must offer ``feature_extractor(weights, seed)`` and
    ``source_logits(inputs)`` (as :class:`~mmdl.models.DTLClassifier`
    does) and a data preprocessor.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The target test set.
        evaluator (Evaluator | dict | list): Its metrics.
        tasks (dict): Task name to ``dict(train=..., test=...,
            num_classes=..., fraction=1.0)``, where ``train`` and ``test``
            are dataloader-like dicts: ``dataset`` (config), ``batch_size``
            and optionally ``num_workers`` and ``collate_fn``.
        source_task (str, optional): The task whose test set measures
            ``source/accuracy``; None to skip. Defaults to ``'source'``.
        modes (Sequence[str]): Of ``'linear'`` and ``'finetune'``.
            Defaults to both.
        epochs (int): Retraining epochs. Defaults to 30.
        optimizer (dict): Optimiser config (mmengine ``OPTIMIZERS``) of
            fine-tuning. Defaults to SGD, lr 0.01, momentum 0.9, weight
            decay 5e-4.
        linear_lr (float): Learning rate of the linear probe (otherwise the
            same optimiser). Defaults to 0.1.
        seeds (Sequence[int]): Retraining seeds. Defaults to (0, 1, 2).
        subset_seed (int): Seed of the class-balanced subsets. Defaults
            to 0.
        references (Sequence[str]): Of ``'pretrained'`` and ``'random'``.
            Defaults to both.
        cache (bool): Preprocess every retraining sample once and retrain
            from the cached tensors (see
            :class:`~mmdl.evaluation.piggyback.PiggybackTask`); only for
            pipelines without random augmentation. Defaults to False.
        fp16 (bool): As in mmengine's ``TestLoop`` (the target metrics).
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 tasks: Dict[str, dict],
                 source_task: Optional[str] = 'source',
                 modes: Sequence[str] = PL_MODES,
                 epochs: int = 30,
                 optimizer: dict = dict(
                     type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
                 linear_lr: float = 0.1,
                 seeds: Sequence[int] = (0, 1, 2),
                 subset_seed: int = 0,
                 references: Sequence[str] = ('pretrained', 'random'),
                 cache: bool = False,
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        name = 'PiggybackTestLoop'
        if not isinstance(tasks, dict) or not tasks:
            raise ConfigError(f'{name}: tasks must be a non-empty dict of name '
                             'to dict(train=..., test=..., num_classes=...)')
        bad = [m for m in modes if m not in PL_MODES]
        if bad or not modes:
            raise ConfigError(f'{name}: modes must be some of {PL_MODES}, got '
                             f'{list(modes)}')
        bad = [r for r in references if r not in SUBJECTS[1:]]
        if bad:
            raise ConfigError(f'{name}: references must be some of '
                             f'{SUBJECTS[1:]}, got {list(references)}')
        if source_task is not None and source_task not in tasks:
            raise ConfigError(f'{name}: source_task={source_task!r} is not one '
                           f'of the tasks {sorted(tasks)}')
        if epochs < 1 or not seeds:
            raise ConfigError(f'{name}: needs epochs >= 1 and at least one '
                             f'seed, got epochs={epochs}, seeds={seeds}')
        self.task_cfgs = tasks
        self.source_task = source_task
        self.modes = tuple(modes)
        self.epochs = int(epochs)
        self.optimizer = dict(optimizer)
        self.linear_lr = float(linear_lr)
        self.seeds = tuple(int(s) for s in seeds)
        self.subset_seed = int(subset_seed)
        self.references = tuple(references)
        self.cache = bool(cache)
        self.tasks = {n: self._build_task(n, c) for n, c in tasks.items()}

    def _build_task(self, name: str, cfg: dict) -> PiggybackTask:
        where = f'PiggybackTestLoop: tasks.{name}'
        for key in ('train', 'test', 'num_classes'):
            if key not in cfg:
                raise ConfigError(f'{where} needs {key!r}')
        for part in ('train', 'test'):
            if 'dataset' not in cfg[part]:
                raise ConfigError(f'{where}.{part} needs a dataset config')
        fraction = float(cfg.get('fraction', 1.0))
        if not 0 < fraction <= 1:
            raise ConfigError(f'{where}.fraction must be in (0, 1], got '
                             f'{fraction}')
        train_cfg, test_cfg = cfg['train'], cfg['test']
        collate = train_cfg.get('collate_fn', dict(type='pseudo_collate'))
        collate_fn = FUNCTIONS.get(collate['type'])
        if collate_fn is None:
            raise ConfigError(f"{where}.train.collate_fn: unknown function "
                           f"{collate['type']!r}")
        return PiggybackTask(
            name=name,
            train=subset(
                DATASETS.build(train_cfg['dataset']), fraction,
                self.subset_seed),
            test=DATASETS.build(test_cfg['dataset']),
            num_classes=int(cfg['num_classes']),
            batch_size=int(train_cfg.get('batch_size', 64)),
            test_batch_size=int(test_cfg.get('batch_size', 256)),
            num_workers=int(train_cfg.get('num_workers', 0)),
            collate_fn=collate_fn,
            cache=self.cache)

    # ------------------------------------------------------------------
    def _model(self):
        model = self.runner.model
        model = model.module if is_model_wrapper(model) else model
        missing = [
            a for a in ('feature_extractor', 'source_logits',
                        'data_preprocessor') if not hasattr(model, a)
        ]
        if missing:
            raise TypeError(f'PiggybackTestLoop: the model '
                            f'{type(model).__name__} lacks {missing}; use a '
                            'model such as mmdl.DTLClassifier')
        return model

    def _preprocess(self, model):

        def preprocess(batch) -> Tuple[torch.Tensor, torch.Tensor]:
            if isinstance(batch, (list, tuple)):  # a cached task's batch
                inputs, labels = batch
                device = next(model.parameters()).device
                return inputs.to(device), labels.to(device)
            data = model.data_preprocessor(batch, False)
            labels = torch.cat([s.gt_label for s in data['data_samples']])
            return data['inputs'], labels.to(data['inputs'].device)

        return preprocess

    def jobs(self) -> List[Tuple[str, str, str, int]]:
        """All ``(task, mode, subject, seed)`` retraining jobs."""
        subjects = ('model', ) + self.references
        return [(t, m, s, seed) for t in self.tasks for m in self.modes
                for s in subjects for seed in self.seeds]

    def run(self) -> dict:
        """Target metrics, source accuracy, then the PL jobs."""
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        self.test_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        model = self._model()
        preprocess = self._preprocess(model)
        for task in self.tasks.values():
            task.prepare(preprocess)
        if self.source_task is not None:
            metrics['source/accuracy'] = accuracy(
                model.source_logits, self.tasks[self.source_task].test_loader(),
                preprocess)
        results = self._run_jobs(model, preprocess)
        metrics.update(summarise(results))
        if is_main_process():
            self._write(results, metrics)
        self.runner.model.eval()
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _run_jobs(self, model, preprocess) -> Dict[tuple, float]:
        rank, world_size = get_dist_info()
        mine = self.jobs()[rank::world_size]
        bar = ProgressBar(len(mine) * self.epochs) if rank == 0 else None
        results = {}
        for task, mode, subject, seed in mine:
            weights = 'current' if subject == 'model' else subject
            extractor = model.feature_extractor(weights, seed=seed)
            optimizer = dict(self.optimizer)
            if mode == 'linear':
                optimizer['lr'] = self.linear_lr
            results[(task, mode, subject, seed)] = piggyback_accuracy(
                extractor,
                self.tasks[task],
                preprocess,
                mode,
                self.epochs,
                optimizer,
                seed,
                on_epoch=bar.update if bar is not None else None)
        if bar is not None:
            bar.file.write('\n')
        if world_size > 1:
            merged = {}
            for part in all_gather_object(results):
                merged.update(part)
            results = merged
        return results

    def _write(self, results: Dict[tuple, float], metrics: dict) -> None:
        path = osp.join(self.runner.log_dir, 'piggyback.json')
        rows = [
            dict(task=t, mode=m, subject=s, seed=seed, accuracy=v)
            for (t, m, s, seed), v in sorted(results.items())
        ]
        with open(path, 'w') as f:
            json.dump(
                dict(
                    jobs=rows,
                    metrics={
                        k: v
                        for k, v in metrics.items()
                        if isinstance(v, (int, float))
                    },
                    protocol=dict(
                        tasks={
                            n: dict(
                                num_train=len(t.train),
                                num_test=len(t.test),
                                num_classes=t.num_classes,
                                fraction=float(self.task_cfgs[n].get(
                                    'fraction', 1.0)))
                            for n, t in self.tasks.items()
                        },
                        modes=list(self.modes),
                        epochs=self.epochs,
                        optimizer=self.optimizer,
                        linear_lr=self.linear_lr,
                        seeds=list(self.seeds),
                        subset_seed=self.subset_seed,
                        references=list(self.references),
                        cache=self.cache)),
                f,
                indent=2)
