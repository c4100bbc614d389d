# Copyright (c) mmdl contributors. All rights reserved.
"""The EDAS quick search through tools/train.py, tools/test.py and
tools/analysis_tools/derive_genotype.py on a tiny search network: the
genotype logged, written and drawn; the one-shot and derived accuracies
equal in single-edge mode; resume reproducing the uninterrupted run; and
2-process training (gloo) with the architecture identical on both
ranks."""
import json
import os.path as osp
import re

import pytest
import torch
from conftest import REPO_ROOT, run_tool
from test_dist_train import _assert_ranks_agree_every_epoch, _dist_train
from tool_mains import exit_lines, tool_main

from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.models.nas import load_genotype

QUICK = osp.join(REPO_ROOT, 'configs', 'edas',
                 'edas_search-5c8_1xb64-10e_digits_quick.py')
#: A 3-cell, 4-channel network on 128 + 128 images, batch 32: 4 paired
#: steps per epoch.
TINY = [
    'model.classifier.backbone.num_layers=3',
    'model.classifier.backbone.base_channels=4',
    'model.classifier.head.in_channels=64', 'train_cfg.max_epochs=2',
    'train_cfg.val_interval=2', 'train_dataloader.dataset.indices=128',
    'train_dataloader.batch_size=32',
    'train_cfg.paired_dataloaders.arch.dataset.indices=-128',
    'train_cfg.paired_dataloaders.arch.batch_size=32',
    'val_dataloader.dataset.indices=-128',
    'optim_wrapper.architecture.optimizer.lr=0.05'
]


@pytest.fixture(scope='module')
def search_run(tmp_path_factory):
    work = tmp_path_factory.mktemp('edas_search')
    torch.set_num_threads(1)
    tool_main('train.py')(
        [QUICK, '--work-dir',
         str(work), '--cfg-options', *TINY])
    return work


def _accuracy(capsys, *args):
    capsys.readouterr()
    tool_main('test.py')([QUICK, *map(str, args)])
    out = capsys.readouterr()
    found = re.findall(r'accuracy/top1: ([\d.]+)', out.out + out.err)
    assert found, out.err[-2000:]
    return float(found[-1])


def test_search_logs_writes_and_draws_the_genotype(search_run):
    lines = [
        json.loads(line)
        for line in next(search_run.rglob('genotypes.jsonl')).open()
    ]
    assert [line['epoch'] for line in lines] == [1, 2]
    final = load_genotype(str(search_run / 'genotype.json'))
    assert final._asdict() == {
        k: [tuple(p) if isinstance(p, list) else p for p in v]
        for k, v in lines[-1].items() if k != 'epoch'
    }
    log = next(search_run.rglob('*.log')).read_text()
    assert 'Genotype after epoch 2:' in log and 'arch_loss' in log
    assert (search_run / 'genotype.png').read_bytes()[:4] == b'\x89PNG'
    state = load_checkpoint_file(
        str(search_run / 'epoch_2.pth'), map_location='cpu')['state_dict']
    assert int(state['search_step']) == 8
    # the architecture moved from its initialisation
    assert max(state[f'classifier.backbone.alphas_normal.{e}'].abs().max()
               for e in range(14)) > 0.01


def test_one_shot_and_derived_accuracy_are_equal(search_run, capsys, tmp_path):
    checkpoint = search_run / 'epoch_2.pth'
    common = ['--work-dir', tmp_path, '--cfg-options', *TINY]
    one_shot = _accuracy(capsys, checkpoint, *common)
    derived = _accuracy(capsys, checkpoint, *common,
                        'model.eval_network=derived')
    assert one_shot == derived


def test_derive_tool(search_run, tmp_path, capsys, monkeypatch):
    # the tool builds the config's model: give it the tiny network
    config = tmp_path / 'tiny.py'
    overrides = {
        'model':
        dict(
            classifier=dict(
                backbone=dict(num_layers=3, base_channels=4),
                head=dict(in_channels=64)))
    }
    config.write_text(f'_base_ = [{QUICK!r}]\n'
                      f"model = {overrides['model']!r}\n")
    genotype = tool_main('analysis_tools/derive_genotype.py')([
        str(config),
        str(search_run / 'epoch_2.pth'), '--out-dir',
        str(tmp_path / 'out')
    ])
    assert genotype == load_genotype(str(search_run / 'genotype.json'))
    assert load_genotype(str(tmp_path / 'out' / 'genotype.json')) == genotype
    assert (tmp_path / 'out' / 'genotype.png').exists()
    assert 'normal: node 2 <-' in capsys.readouterr().out
    # a checkpoint of another network is refused by name
    code, lines = exit_lines(capsys, monkeypatch,
                             'analysis_tools/derive_genotype.py', QUICK,
                             search_run / 'epoch_2.pth', '--out-dir', tmp_path)
    assert isinstance(code, str) and not any('Traceback' in l for l in lines)
    line = lines[-1]
    assert line.startswith('derive_genotype.py: error: checkpoint')
    assert 'does not match the model ArchSearchClassifier' in line
    assert 'nothing derived' in line


def test_resume_reproduces_the_uninterrupted_search(search_run, tmp_path):
    """Resumed at epoch 1, the search ends with the uninterrupted run's
    weights and architecture: the step counter that seeds the edge draws
    is in the checkpoint and the paired loader pairs the same batches."""
    first = tmp_path / 'epoch_1.pth'
    first.write_bytes((search_run / 'epoch_1.pth').read_bytes())
    tool_main('train.py')([
        QUICK, '--work-dir',
        str(tmp_path), '--resume',
        str(first), '--cfg-options', *TINY
    ])
    a, b = (
        load_checkpoint_file(str(p), map_location='cpu')['state_dict']
        for p in (search_run / 'epoch_2.pth', tmp_path / 'epoch_2.pth'))
    assert set(a) == set(b)
    for key, value in a.items():
        assert torch.equal(value, b[key]), key


@pytest.mark.dist
def test_dist_search_keeps_ranks_identical(tmp_path):
    """tools/dist_train.sh with 2 gloo processes: the search's own
    train_step runs in the delegating wrapper, both ranks draw the same
    edges and, with the architecture gradients all-reduced, hold the same
    architecture parameters and weights after every epoch."""
    options = '\n'.join(f'{k} = {v}' for k, v in [
        ('model',
         dict(
             classifier=dict(
                 backbone=dict(num_layers=3, base_channels=4),
                 head=dict(in_channels=64)))),
        ('train_cfg',
         dict(
             max_epochs=2,
             val_interval=2,
             paired_dataloaders=dict(
                 arch=dict(batch_size=16, dataset=dict(indices=-128))))),
        ('train_dataloader', dict(batch_size=16, dataset=dict(indices=128))),
        ('val_dataloader', dict(dataset=dict(indices=-64))),
        ('optim_wrapper', dict(architecture=dict(optimizer=dict(lr=0.05)))),
    ])
    text = '\n'.join([
        f'_base_ = [{QUICK!r}]',
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        'custom_hooks = [dict(type="GenotypeHook"), dict(type="RankDumpHook",'
        f' out_dir={str(tmp_path)!r}, every_epoch=True)]',
        options,
    ]) + '\n'
    ranks = _dist_train(tmp_path, text, 29631)
    assert ranks[0]['wrapper'] == 'DelegatingDistributedDataParallel'
    states = _assert_ranks_agree_every_epoch(tmp_path, 2)
    # 128 images / (2 ranks x 16) = 4 steps per epoch
    assert [int(s['search_step']) for s in states] == [4, 8]
    alphas = [k for k in states[-1] if 'alphas' in k]
    assert len(alphas) == 28
    assert any(not torch.equal(states[0][k], states[1][k]) for k in alphas)


def test_train_and_test_the_derived_network(search_run, tmp_path, capsys):
    """The search's genotype.json trained from scratch through
    tools/train.py and tested through tools/test.py (the quick config on a
    3-cell network, 1 epoch of 128 images)."""
    derived = osp.join(REPO_ROOT, 'configs', 'edas',
                       'edas-derived_8c16_1xb64-20e_digits_quick.py')
    options = [
        f'model.backbone.genotype={search_run / "genotype.json"}',
        'model.backbone.num_layers=3', 'model.backbone.base_channels=4',
        'model.head.in_channels=64', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', 'train_dataloader.dataset.indices=128'
    ]
    tool_main('train.py')(
        [derived, '--work-dir', str(tmp_path), '--cfg-options', *options])
    state = load_checkpoint_file(
        str(tmp_path / 'epoch_1.pth'), map_location='cpu')['state_dict']
    # cell 0 (normal) holds the genotype's operations: weights exactly for
    # its convolutions
    genotype = load_genotype(str(search_run / 'genotype.json'))
    with_weights = {
        i
        for i, (op, _) in enumerate(genotype.normal)
        if op.startswith(('sep_conv', 'dil_conv'))
    }
    prefix = 'backbone.cells.0.ops.'
    assert {
        int(k[len(prefix):].split('.')[0])
        for k in state if k.startswith(prefix)
    } == with_weights
    capsys.readouterr()
    tool_main('test.py')([
        derived, str(tmp_path / 'epoch_1.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *options
    ])
    out = capsys.readouterr()
    assert re.search(r'accuracy/top1: [\d.]+', out.out + out.err)
