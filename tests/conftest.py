# Copyright (c) mmdl contributors. All rights reserved.
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

# Under pytest-xdist (``make test`` runs ``-n 2``) every worker and every
# tool it launches computes on one thread: two workers with the default
# thread count each would oversubscribe the cores.
if os.environ.get('PYTEST_XDIST_WORKER'):
    os.environ['OMP_NUM_THREADS'] = '1'
    os.environ['MKL_NUM_THREADS'] = '1'
    import torch
    torch.set_num_threads(1)

def pytest_collection_modifyitems(session, config, items):
    """Run the modules with the most slow tests first (stable otherwise).

    ``make test`` hands whole modules to 2 workers in collection order
    (``--dist loadfile --no-loadscope-reorder``); starting with the longest
    modules keeps one worker from finishing a long module alone at the end.
    """
    slow = {}
    for item in items:
        module = item.nodeid.split('::')[0]
        marked = item.get_closest_marker('slow') or item.get_closest_marker(
            'dist')
        slow[module] = slow.get(module, 0) + (1 if marked else 0)
    order = {}
    for item in items:
        order.setdefault(item.nodeid.split('::')[0], len(order))
    items.sort(key=lambda item: (-slow[item.nodeid.split('::')[0]], order[
        item.nodeid.split('::')[0]]))



REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICK_CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                        'lenet5_1xb32-40e_digits.py')


def run_tool(args, cwd=REPO_ROOT, env=None, timeout=600):
    """Run a command (list) and return the CompletedProcess, text mode."""
    full_env = dict(os.environ)
    full_env.pop('MMDL_DEBUG', None)
    full_env.update(env or {})
    return subprocess.run(
        args,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)


def python_tool(name, *args, **kwargs):
    """Run ``tools/<name>`` with this interpreter."""
    return run_tool(
        [sys.executable, osp.join(REPO_ROOT, 'tools', name)] +
        [str(a) for a in args], **kwargs)


@pytest.fixture
def repo_root():
    return REPO_ROOT


@pytest.fixture
def quick_config():
    return QUICK_CONFIG


# ----------------------------------------------------------------------
# continual-learning runs through tools/train.py on a toy task sequence
# (the test_engine tests of the loop and of KFACBNHook)
# ----------------------------------------------------------------------
LOOP_TESTS = osp.join(REPO_ROOT, 'tests', 'test_engine', 'test_loops')


def toy_sequence_config(hooks,
                        train_cfg,
                        num_train=640,
                        logger_interval=4,
                        param_scheduler=True):
    """Config text: the 32-32 MLP of the permuted-digits configs on
    ``ToyPermutedDigits`` (``task_loop_helpers``, ``num_train`` training
    and 128 test samples per task), a checkpoint every epoch and seed 0.

    Args:
        hooks (list[str]): ``custom_hooks`` entries as Python source.
        train_cfg (str): ``train_cfg`` keyword arguments as Python source.
        num_train (int): Training samples per task.
        logger_interval (int): Logging interval.
        param_scheduler (bool): Halve the lr after each task's first epoch.
    """
    bases = [
        osp.join(REPO_ROOT, 'configs', '_base_', name)
        for name in ('models/mlp_bn_digits.py', 'schedules/continual_sgd.py',
                     'default_runtime.py')
    ]
    scheduler = ("param_scheduler = [dict(type='MultiStepLR', by_epoch=True, "
                 'milestones=[1], gamma=0.5)]' if param_scheduler else '')
    return f"""
_base_ = {bases!r}
custom_imports = dict(imports=['task_loop_helpers'],
                      allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(num_classes=10, mean=[77.9], std=[95.9],
                           to_rgb=False),
    backbone=dict(hidden=(32, 32)),
    head=dict(in_channels=32))
pipeline = [dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])]
train_dataloader = dict(
    batch_size=32, num_workers=0,
    dataset=dict(type='ToyPermutedDigits', split='train',
                 num_samples={num_train}, pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=0,
    dataset=dict(type='ToyPermutedDigits', split='test', num_samples=128,
                 pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
{scheduler}
train_cfg = dict({train_cfg})
default_hooks = dict(logger=dict(interval={logger_interval}),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1))
custom_hooks = [{', '.join(hooks)}]
randomness = dict(seed=0, deterministic=True)
"""


def start_train(tmp_path, name, config_text, resume=False):
    """Start ``tools/train.py`` on ``tmp_path/<name>.py`` (written from
    ``config_text`` the first time) with work dir ``tmp_path/<name>``, one
    thread (runs go in parallel) and ``task_loop_helpers`` importable;
    ``resume``: True (the latest checkpoint) or a checkpoint path."""
    config = tmp_path / f'{name}.py'
    if not config.exists():
        config.write_text(config_text)
    args = [
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'),
        str(config), '--work-dir',
        str(tmp_path / name)
    ] + (['--resume'] if resume is True else
         ['--resume', str(resume)] if resume else [])
    env = dict(os.environ, PYTHONPATH=LOOP_TESTS, OMP_NUM_THREADS='1')
    env.pop('MMDL_DEBUG', None)
    return subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)


def finish_train(process, expected_rc=0):
    """Wait for a run of :func:`start_train`; check its exit code and
    return its output."""
    out, _ = process.communicate(timeout=600)
    assert process.returncode == expected_rc, out[-4000:]
    return out


def read_json(path):
    """A JSON file (``continual_metrics.json``)."""
    with open(path) as f:
        return json.load(f)


def read_jsonl(path):
    """A file of one JSON object per line (the recorded task events)."""
    with open(path) as f:
        return [json.loads(line) for line in f]
