# Copyright (c) mmdl contributors. All rights reserved.
"""Log, save and draw the genotype of an architecture search."""
import json
import os.path as osp
from typing import Optional

from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdl.models.nas.genotype import (dump_genotype, format_genotype,
                                      genotype_to_dict)
from mmdl.registry import HOOKS


@HOOKS.register_module()
class GenotypeHook(Hook):
    """After every ``interval`` training epochs, log the search's current
    genotype (the model's ``genotype()``, e.g.
    :class:`~mmdl.models.ArchSearchClassifier`), write it to
    ``<work_dir>/genotype.json`` (overwritten: the latest) and append it to
    ``<log_dir>/genotypes.jsonl`` with the epoch; after training, draw it to
    ``<work_dir>/genotype.png`` (normal and reduction cell).

    Args:
        interval (int): Epochs between two records. Defaults to 1.
        draw (bool): Draw the final genotype. Defaults to True.
        filename (str): The JSON file in the work dir. Defaults to
            ``'genotype.json'``.
    """

    priority = 'LOW'

    def __init__(self,
                 interval: int = 1,
                 draw: bool = True,
                 filename: str = 'genotype.json') -> None:
        if interval < 1:
            raise ValueError(f'GenotypeHook: interval must be >= 1, got '
                             f'{interval}')
        self.interval = interval
        self.draw = draw
        self.filename = filename

    @staticmethod
    def _model(runner):
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        if not callable(getattr(model, 'genotype', None)):
            raise TypeError(f'GenotypeHook: the model '
                            f'({type(model).__name__}) has no genotype(); '
                            'use it with an architecture search such as '
                            'ArchSearchClassifier')
        return model

    def before_train(self, runner) -> None:
        """Fail early on a model without a genotype."""
        self._model(runner)

    @master_only
    def _record(self, runner, epoch: int) -> None:
        genotype = self._model(runner).genotype()
        runner.logger.info(f'Genotype after epoch {epoch}:\n'
                           f'{format_genotype(genotype)}')
        dump_genotype(genotype, osp.join(runner.work_dir, self.filename))
        with open(osp.join(runner.log_dir, 'genotypes.jsonl'), 'a') as f:
            f.write(
                json.dumps(dict(epoch=epoch, **genotype_to_dict(genotype))) +
                '\n')

    def after_train_epoch(self, runner) -> None:
        """Record the genotype every ``interval`` epochs and at the end."""
        if self.every_n_epochs(runner, self.interval) or \
                self.is_last_train_epoch(runner):
            self._record(runner, runner.epoch + 1)

    @master_only
    def after_train(self, runner) -> None:
        """Write the final genotype and draw it."""
        genotype = self._model(runner).genotype()
        dump_genotype(genotype, osp.join(runner.work_dir, self.filename))
        if self.draw:
            from mmdl.visualization import save_genotype
            path = osp.join(runner.work_dir,
                            osp.splitext(self.filename)[0] + '.png')
            save_genotype(path, genotype, title=self._title(runner))
            runner.logger.info(f'Genotype drawn to {path}')

    @staticmethod
    def _title(runner) -> Optional[str]:
        name = getattr(runner, 'experiment_name', None) or ''
        return f'{name}, epoch {runner.epoch}' if name else None
