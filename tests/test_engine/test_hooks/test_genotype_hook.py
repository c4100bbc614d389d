# Copyright (c) mmdl contributors. All rights reserved.
"""GenotypeHook: the genotype logged, written and appended every interval,
drawn after training, and a clear error for a model without one."""
import json
import logging
from types import SimpleNamespace

import pytest
from torch import nn

from mmdl.engine.hooks import GenotypeHook
from mmdl.models.nas import DARTS_V1, DARTS_V2, load_genotype


class Searcher(nn.Module):

    def __init__(self):
        super().__init__()
        self.current = DARTS_V1

    def genotype(self):
        return self.current


class Wrapper(nn.Module):
    """Stands for a DDP wrapper (registered wrappers are unwrapped)."""

    def __init__(self, module):
        super().__init__()
        self.module = module


def _runner(tmp_path, model, epoch, max_epochs=4):
    return SimpleNamespace(
        model=model,
        epoch=epoch,
        max_epochs=max_epochs,
        work_dir=str(tmp_path),
        log_dir=str(tmp_path),
        experiment_name='search',
        logger=logging.getLogger('genotype_hook_test'))


def test_records_every_interval_and_draws(tmp_path, caplog):
    model = Searcher()
    hook = GenotypeHook(interval=2)
    hook.before_train(_runner(tmp_path, model, 0))
    with caplog.at_level(logging.INFO, logger='genotype_hook_test'):
        for epoch in range(4):
            if epoch == 2:
                model.current = DARTS_V2
            hook.after_train_epoch(_runner(tmp_path, model, epoch))
    lines = [json.loads(l) for l in (tmp_path / 'genotypes.jsonl').open()]
    assert [l['epoch'] for l in lines] == [2, 4]
    assert lines[0]['normal'][0] == ['sep_conv_3x3', 1]  # DARTS_V1
    assert load_genotype(str(tmp_path / 'genotype.json')) == DARTS_V2
    assert 'Genotype after epoch 4:\nnormal: node 2 <- sep_conv_3x3(0)' in \
        caplog.text
    hook.after_train(_runner(tmp_path, model, 4))
    png = (tmp_path / 'genotype.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n'


def test_last_epoch_recorded_and_wrapper_unwrapped(tmp_path, monkeypatch):
    from mmdl.engine.hooks import genotype_hook

    # a DDP wrapper needs a process group: stand in for mmengine's check
    monkeypatch.setattr(genotype_hook, 'is_model_wrapper',
                        lambda m: isinstance(m, Wrapper))
    hook = GenotypeHook(interval=10, draw=False, filename='g.json')
    hook.after_train_epoch(_runner(tmp_path, Wrapper(Searcher()), 2, 3))
    assert load_genotype(str(tmp_path / 'g.json')) == DARTS_V1
    hook.after_train(_runner(tmp_path, Wrapper(Searcher()), 3, 3))
    assert not (tmp_path / 'g.png').exists()


def test_errors(tmp_path):
    with pytest.raises(TypeError, match='has no genotype'):
        GenotypeHook().before_train(_runner(tmp_path, nn.Linear(1, 1), 0))
    with pytest.raises(ValueError, match='interval'):
        GenotypeHook(interval=0)
