# Copyright (c) mmdl contributors. All rights reserved.
"""tools/attack/poison_continual.py and TaskDataOverrideHook on a tiny EWC
run (3 permuted-digits tasks of 64 samples, one epoch each)."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from conftest import REPO_ROOT
from tool_mains import exit_lines, tool_main

TOOL = 'attack/poison_continual.py'


def error_line(capsys, monkeypatch, *args):
    """The one-line error the tool exits with (status 1, no traceback)."""
    code, lines = exit_lines(capsys, monkeypatch, TOOL, *args)
    assert isinstance(code, str), (code, lines)
    assert not any('Traceback' in line for line in lines), lines
    assert lines[-1].startswith('poison_continual.py: error: '), lines
    return lines[-1]


def config_text(hidden, extra_hooks=''):
    bases = [
        osp.join(REPO_ROOT, 'configs', '_base_', name)
        for name in ('models/mlp_bn_digits.py',
                     'datasets/permuted_digits_bs32.py',
                     'schedules/continual_sgd.py', 'default_runtime.py')
    ]
    return f"""
_base_ = {bases!r}
model = dict(
    data_preprocessor=dict(num_classes=10, mean=[77.9], std=[95.9],
                           to_rgb=False),
    backbone=dict(hidden=({hidden}, )),
    head=dict(in_channels={hidden}))
train_dataloader = dict(dataset=dict(indices=64))
val_dataloader = dict(dataset=dict(indices=64))
test_dataloader = val_dataloader
train_cfg = dict(num_tasks=3, max_epochs=1)
custom_hooks = [
    dict(type='RegularizerHook',
         regularizer=dict(type='EWCRegularizer', fisher='empirical'),
         penalty_weight=10.0),
{extra_hooks}]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1))
randomness = dict(seed=0, deterministic=True)
"""


def train(tmp_path, name, text):
    """Train in-process; return the runner."""
    from mmdl.utils.cli import build_runner
    path = tmp_path / f'{name}.py'
    path.write_text(text)
    cfg = Config.fromfile(str(path))
    cfg.work_dir = str(tmp_path / name)
    runner = build_runner(cfg)
    runner.train()
    return runner


@pytest.fixture(scope='module')
def victim_run(tmp_path_factory):
    """A finished tiny EWC run: its config and work dir."""
    tmp_path = tmp_path_factory.mktemp('victim')
    train(tmp_path, 'ewc', config_text(16))
    return tmp_path


def test_poison_then_train_on_it(victim_run, tmp_path, capsys):
    config = str(victim_run / 'ewc.py')
    checkpoint = str(victim_run / 'ewc' / 'epoch_2.pth')  # end of task 1
    out = tmp_path / 'poison'
    capsys.readouterr()
    root = tool_main(TOOL)([
        config, checkpoint, '--target-task', '0', '--out-dir',
        str(out), '--mode', 'unrolled', '--steps', '2', '--eps', '0.1',
        '--poison-ratio', '0.5', '--target-samples', '32', '--no-progress'
    ])
    printed = capsys.readouterr().out
    assert root == str(out)
    assert 'TaskDataOverrideHook' in printed and str(out) in printed
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['poisoned_task'] == 2 and manifest['target_task'] == 0
    assert manifest['num_poisoned'] == 32
    assert manifest['victim_old_tasks'] == 2  # task 1 consolidated first
    assert manifest['regularizer'] == 'EWCRegularizer'
    assert manifest['gradient_evaluations'] == 2 * 2  # 2 batches x 2 steps
    for key in ('epsilon', 'mode', 'objective', 'seed', 'poison_ratio',
                'attack_seconds', 'checkpoint_sha256', 'config',
                'penalty_weight', 'clean_image_shape', 'poisoned_image_shape',
                'mmdl_version'):
        assert key in manifest, key

    from mmdl.datasets import PermutedDigits, PoisonedTaskDataset
    from mmdl.datasets.continual import load_poisoned_task
    images, labels, _ = load_poisoned_task(str(out))
    clean = PermutedDigits(split='train', task_id=2, indices=64)
    clean_images = np.stack([clean.get_data_info(i)['img'] for i in range(64)])
    clean_labels = [clean.get_data_info(i)['gt_label'] for i in range(64)]
    assert labels.tolist() == clean_labels
    diff = np.abs(images.astype(int) - clean_images.astype(int))
    assert diff.max() <= 25  # floor(0.1 * 255)
    poisoned = np.zeros(64, dtype=bool)
    poisoned[manifest['poisoned_indices']] = True
    assert not diff[~poisoned].any() and diff[poisoned].any()

    # the same config with the override hook trains task 2 on it
    hook = ("    dict(type='TaskDataOverrideHook', datasets={2: dict("
            f"type='PoisonedTaskDataset', data_root={str(out)!r})}}),\n")
    runner = train(tmp_path, 'poisoned', config_text(16, hook))
    loop = runner.train_loop
    assert loop.completed_tasks == 3 and loop.task == 2
    dataset = loop.task_dataloader(2, 'train').dataset
    assert isinstance(dataset, PoisonedTaskDataset)
    assert np.array_equal(dataset.get_data_info(5)['img'], images[5])
    assert not isinstance(
        loop.task_dataloader(1, 'train').dataset, PoisonedTaskDataset)


def test_trajectory_mode_simulates_the_config_victim(victim_run, tmp_path,
                                                    capsys):
    """The default mode replays the config's optimiser, batch size and
    epochs; its cost is one gradient per iteration."""
    config = str(victim_run / 'ewc.py')
    checkpoint = str(victim_run / 'ewc' / 'epoch_2.pth')
    out = tmp_path / 'poison'
    tool_main(TOOL)([
        config, checkpoint, '--target-task', '1', '--out-dir',
        str(out), '--steps', '3', '--eps', '0.05', '--target-samples', '16',
        '--keep-samples', '8', '--no-progress'
    ])
    manifest = json.loads((out / 'manifest.json').read_text())
    attack = manifest['attack']
    assert manifest['mode'] == 'trajectory' and attack['init'] == 'zero'
    assert manifest['gradient_evaluations'] == 3
    cfg = Config.fromfile(config)
    optimizer = cfg.optim_wrapper.optimizer
    assert attack['victim_optimizer']['type'] == optimizer.type.lower()
    assert attack['victim_optimizer']['lr'] == optimizer.lr
    assert attack['victim_epochs'] == cfg.train_cfg.max_epochs
    assert attack['batch_size'] == cfg.train_dataloader.batch_size
    assert attack['target_batch_size'] == 16
    assert manifest['keep_samples'] == {'0': 8}  # the other earlier task
    from mmdl.datasets.continual import load_poisoned_task
    images, _, _ = load_poisoned_task(str(out))
    assert len(images) == 64 and manifest['num_poisoned'] == 64


def test_mismatched_checkpoint_refused(victim_run, tmp_path, capsys,
                                       monkeypatch):
    other = tmp_path / 'other.py'
    other.write_text(config_text(8))  # hidden 8, the checkpoint has 16
    checkpoint = str(victim_run / 'ewc' / 'epoch_2.pth')
    line = error_line(capsys, monkeypatch, other, checkpoint, '--target-task',
                      '0', '--out-dir', tmp_path / 'out')
    assert checkpoint in line and 'does not match' in line
    assert not (tmp_path / 'out').exists()


def test_checkpoint_without_regularizer_state_refused(victim_run, tmp_path,
                                                      capsys, monkeypatch):
    ckpt = torch.load(
        str(victim_run / 'ewc' / 'epoch_2.pth'),
        map_location='cpu',
        weights_only=False)
    bare = str(tmp_path / 'bare.pth')
    torch.save({'state_dict': ckpt['state_dict'], 'meta': {}}, bare)
    line = error_line(capsys, monkeypatch, victim_run / 'ewc.py', bare,
                      '--target-task', '0', '--out-dir', tmp_path / 'out')
    assert bare in line and "no 'regularizer_hook' state" in line


def test_rescl_victim_through_its_finetuning(tmp_path, capsys):
    """A ResCL run is attacked through its fine-tuning stage (the
    surrogate), and trains its next task on the poisoned data."""
    base = osp.join(REPO_ROOT, 'configs', 'rescl',
                    'rescl_mlp-bn_1xb32-2t_permuted-digits_quick.py')

    def text(extra_hooks=''):
        return f"""
_base_ = [{base!r}]
model = dict(classifier=dict(backbone=dict(hidden=(16, )),
                             head=dict(in_channels=16)))
train_dataloader = dict(dataset=dict(indices=64))
val_dataloader = dict(dataset=dict(indices=64))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=[1, 2])
custom_hooks = [dict(type='ResCLHook', finetune_epochs=1),
{extra_hooks}]
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1))
"""

    (tmp_path / 'victim.py').write_text(text())
    cfg = Config.fromfile(str(tmp_path / 'victim.py'))
    cfg.train_cfg.num_tasks = 1
    cfg.train_cfg.max_epochs = [1]
    cfg.work_dir = str(tmp_path / 'victim')
    from mmdl.utils.cli import build_runner
    build_runner(cfg).train()
    out = tmp_path / 'poison'
    tool_main(TOOL)([
        str(tmp_path / 'victim.py'),
        str(tmp_path / 'victim' / 'epoch_1.pth'), '--target-task', '0',
        '--out-dir',
        str(out), '--steps', '2', '--eps', '0.05', '--target-samples', '16',
        '--no-progress'
    ])
    manifest = json.loads((out / 'manifest.json').read_text())
    assert manifest['victim_surrogate'] == 'rescl-finetune'
    assert manifest['poisoned_task'] == 1
    assert manifest['attack']['victim_epochs'] == 1  # the fine-tuning
    assert manifest['regularizer'] is None
    hook = ("    dict(type='TaskDataOverrideHook', datasets={1: dict("
            f"type='PoisonedTaskDataset', data_root={str(out)!r})}}),\n")
    runner = train(tmp_path, 'poisoned', text(hook))
    assert runner.train_loop.completed_tasks == 2
