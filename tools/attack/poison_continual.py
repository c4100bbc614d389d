# Copyright (c) mmdl contributors. All rights reserved.
"""Poison the next task of a continual-learning run so that it forgets an
earlier task (task-targeted poisoning of regularised continual learning).

**Reconstruction** of the attack of Han et al., "Data Poisoning Attack
Aiming the Vulnerability of Continual Learning" (ICIP 2023); threat model
and objectives in :mod:`mmdl.attacks`. The tool builds the victim from the
config and a checkpoint written at the end of a task (model weights and
the state of the config's ``RegularizerHook`` or subclass, e.g.
``KFACBNHook``): after checking that they fit the config, it resumes the
run from the checkpoint in a temporary work dir up to ``before_task`` of
the next task ``T`` (a checkpoint of a task's last epoch first gets that
task's evaluation and ``after_task``: the consolidation of the
regulariser), so the victim is exactly the model and regulariser task
``T`` starts from. It then takes task ``T``'s clean training set and a
sample of task ``K`` from the config's training dataloader template, runs
:class:`~mmdl.attacks.ContinualPoisoner` and writes the poisoned task
(``images-idx3-ubyte``, ``labels-idx1-ubyte``, ``manifest.json``; format
in :mod:`mmdl.datasets.continual.poisoned`) to ``--out-dir``. It prints
the ``TaskDataOverrideHook`` entry that trains task ``T`` on it.

The default ``--mode trajectory`` replays the victim's whole training of
task ``T``: the config's optimiser (with the task's ``train_cfg.task_cfgs``
override), its training batch size and the task's epochs (a ResCL run:
its fine-tuning stage, see :func:`victim_network`).

Example (3 permuted-digits tasks, poison task 2 against task 0)::

    CFG=configs/xkfac/ewc_mlp-bn_1xb32-3t_permuted-digits_quick.py
    python tools/train.py $CFG   # epoch_4.pth: end of task 1
    python tools/attack/poison_continual.py $CFG \\
        work_dirs/ewc_mlp-bn_1xb32-3t_permuted-digits_quick/epoch_4.pth \\
        --target-task 0 --out-dir work_dirs/poison/task2

The model's training pipeline must pass the stored images unchanged to
``PackInputs`` (as the permuted/rotated digit and MNIST configs do): the
attack perturbs the model-input pixels.
"""
import argparse
import copy
import datetime
import hashlib
import os.path as osp
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.registry import init_default_scope

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.engine.hooks import ContinualHook
from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.engine.runner.state_match import (CheckpointMismatchError,
                                            checkpoint_state_dict,
                                            compare_state_dicts)
from mmdl.utils import ConfigError
from mmdl.utils.cli import friendly_errors, load_config

#: Pipeline transforms that keep the stored image as the model input.
PASS_THROUGH = ('PackInputs', 'mmpretrain.PackInputs')
#: Runtime-info key of the completed tasks (``TaskSequenceTrainLoop``).
COMPLETED_KEY = 'continual/completed_tasks'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config of the victim run')
    parser.add_argument(
        'checkpoint', help='victim checkpoint at the end of a task')
    parser.add_argument(
        '--target-task',
        type=int,
        required=True,
        help='earlier task K whose accuracy the attack destroys')
    parser.add_argument(
        '--out-dir', required=True, help='folder of the poisoned task')
    parser.add_argument(
        '--poison-task',
        type=int,
        help='task T whose training data are poisoned; must be the task '
        'the run starts next when resumed from CHECKPOINT (the default)')
    parser.add_argument(
        '--eps', type=float, default=0.03, help='L_inf budget in [0, 1]')
    parser.add_argument(
        '--mode',
        choices=['trajectory', 'unrolled', 'gradient_matching'],
        default='trajectory',
        help="trajectory: through the victim's whole training (its "
        'optimiser, batch size and epochs from the config); unrolled: '
        'J SGD steps per batch; gradient_matching: 1 - cos per batch')
    parser.add_argument(
        '--objective', choices=['cautious', 'reckless'], default='cautious')
    parser.add_argument(
        '--steps',
        type=int,
        help='attack iterations (per batch in the unrolled and '
        'gradient-matching modes; default 240, trajectory 8)')
    parser.add_argument(
        '--step-size', type=float, help='signed step (default 4 eps/steps)')
    parser.add_argument('--momentum', type=float, default=1.0)
    parser.add_argument(
        '--unroll-steps',
        type=int,
        default=3,
        help='simulated victim SGD steps (unrolled mode)')
    parser.add_argument(
        '--inner-lr',
        type=float,
        help="simulated victim learning rate (default: the config's "
        'optimizer lr)')
    parser.add_argument(
        '--w-cur',
        type=float,
        default=5.0,
        help='weight of the clean task-T loss (cautious objective)')
    parser.add_argument(
        '--target-samples',
        type=int,
        default=256,
        help="size of the attacker's task-K sample")
    parser.add_argument(
        '--target-batch-size',
        type=int,
        help='task-K samples per iteration (default: 64, trajectory: the '
        "whole attacker's sample)")
    parser.add_argument(
        '--batch-size',
        type=int,
        help="task-T batch size (default: the config's training batch size)")
    parser.add_argument('--poison-ratio', type=float, default=1.0)
    parser.add_argument(
        '--init',
        choices=['uniform', 'zero'],
        help='start of the perturbation (default: zero for trajectory, '
        'uniform otherwise)')
    parser.add_argument(
        '--target-loss',
        choices=['margin', 'ce'],
        default='margin',
        help='trajectory: the loss on the targeted task (margin: '
        'Carlini-Wagner margin clamped at -kappa; ce: -cross-entropy)')
    parser.add_argument('--kappa', type=float, default=2.0)
    parser.add_argument(
        '--keep-samples',
        type=int,
        default=0,
        help='trajectory: a sample of this size of every other earlier '
        'task, whose loss the attack keeps low (a stronger attacker than '
        'the default threat model; 0: none)')
    parser.add_argument(
        '--w-keep',
        type=float,
        default=1.0,
        help='weight of the other tasks\' loss (--keep-samples)')
    parser.add_argument(
        '--clean-samples',
        type=int,
        default=512,
        help='trajectory: clean task-T samples of the cautious term')
    parser.add_argument(
        '--victim-epochs',
        type=int,
        help="trajectory: simulated epochs (default: the poisoned task's "
        'epochs in the config)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--debug', action='store_true', help='show full tracebacks')
    return parser.parse_args(argv)


# ----------------------------------------------------------------------
# the victim
# ----------------------------------------------------------------------
def sha256_file(path: str) -> str:
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def load_victim_model(cfg, config: str, checkpoint: str):
    """The config's model with the checkpoint's weights, and the checkpoint.

    Raises:
        CheckpointMismatchError: Missing/unexpected keys or shapes.
    """
    from mmdl.registry import MODELS
    model = MODELS.build(cfg.model)
    ckpt = load_checkpoint_file(checkpoint, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise ConfigError(f"checkpoint '{checkpoint}' is not a checkpoint "
                          'dict')
    state = checkpoint_state_dict(ckpt, [(r'^module\.', '')])
    mismatch = compare_state_dicts(model.state_dict(), state)
    if mismatch:
        raise CheckpointMismatchError(
            checkpoint, mismatch,
            type(model).__name__, config, 'nothing poisoned',
            'give the config of the run that '
            'wrote it')
    model.load_state_dict(state)
    model.eval()
    return model, ckpt


def regularizer_hook(cfg):
    """The config's ``RegularizerHook`` (or subclass) built from
    ``custom_hooks``, or None."""
    from mmdl.engine.hooks import RegularizerHook
    from mmdl.registry import HOOKS
    found = []
    for index, entry in enumerate(cfg.get('custom_hooks') or []):
        if not isinstance(entry, dict) or 'type' not in entry:
            continue
        cls = entry['type'] if isinstance(entry['type'], type) else \
            HOOKS.get(entry['type'])
        if isinstance(cls, type) and issubclass(cls, RegularizerHook):
            found.append((index, entry))
    if len(found) > 1:
        raise ConfigError(
            f'custom_hooks[{found[1][0]}]: more than one RegularizerHook; '
            'the attack models one regulariser')
    if not found:
        return None
    entry = dict(found[0][1])
    entry.pop('priority', None)
    return HOOKS.build(entry)


def load_regularizer_state(hook, ckpt: dict, checkpoint: str) -> None:
    """Restore the hook's regulariser state from the checkpoint.

    Raises:
        ConfigError: No state, or the state of another regulariser.
    """
    name = type(hook).__name__
    if hook.state_key not in ckpt:
        raise ConfigError(
            f"checkpoint '{checkpoint}' has no '{hook.state_key}' state, but "
            f"the config has a {name} ({type(hook.regularizer).__name__}): "
            'expected a checkpoint of a run of this config written after '
            'its first task')
    try:
        hook.load_state_dict(ckpt[hook.state_key])
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"checkpoint '{checkpoint}': its '{hook.state_key}'"
                          f' state does not fit the config\'s {name}: '
                          f'{error}') from error


class _Captured(Exception):
    """Raised by :class:`VictimCaptureHook` to stop the resumed run."""


class VictimCaptureHook(ContinualHook):
    """Stop a resumed run at ``before_task`` of the next task, after every
    hook has finished the previous task (``after_task``: consolidation,
    batch-norm merging) and every other hook's ``before_task`` has run:
    the model and the regulariser are then exactly what the victim starts
    the task with."""

    def __init__(self) -> None:
        self.task: Optional[int] = None
        self.epochs: Optional[int] = None
        self.finetune_epochs: Optional[int] = None

    def before_task(self, runner, task_index: int) -> None:
        from mmdl.engine.hooks import ResCLHook
        self.task = task_index
        self.epochs = int(runner.train_loop.task_epochs[task_index])
        for hook in runner.hooks:
            if isinstance(hook, ResCLHook):
                self.finetune_epochs = hook.task_finetune_epochs(task_index)
        raise _Captured()


def victim_at_next_task(cfg, checkpoint: str):
    """Resume the run of ``cfg`` from ``checkpoint`` up to the start of its
    next task (the pending evaluation and ``after_task`` of a checkpoint
    written at a task's last epoch run first, as on any resume).

    Returns:
        tuple: ``(model, hook, task, epochs)``: the unwrapped model on the
        CPU, the run's RegularizerHook (or None), the task about to start
        and its epochs (a ResCL run: its fine-tuning epochs, see
        :func:`victim_network`).

    Raises:
        ConfigError: The checkpoint is in the middle of a task, or the
            sequence is finished.
    """
    from mmdl.engine.hooks import RegularizerHook
    from mmdl.utils.cli import build_runner
    cfg = copy.deepcopy(cfg)
    capture = VictimCaptureHook()
    with tempfile.TemporaryDirectory(prefix='poison_victim_') as work_dir:
        cfg.work_dir = work_dir
        cfg.load_from = checkpoint
        cfg.resume = True
        runner = build_runner(cfg)
        runner.register_hook(capture, priority='LOWEST')
        try:
            runner.train()
        except _Captured:
            pass
        else:
            raise ConfigError(
                f"checkpoint '{checkpoint}': the run has no task left to "
                'start (its sequence is finished)')
        model = ContinualHook.unwrap(runner.model).cpu()
        hooks = [h for h in runner.hooks if isinstance(h, RegularizerHook)]
        runner.logger.handlers.clear()
    epochs = (
        capture.epochs
        if capture.finetune_epochs is None else capture.finetune_epochs)
    return model, (hooks[0] if hooks else None), capture.task, epochs


def victim_network(model) -> Tuple[Any, Optional[str]]:
    """The network the attack differentiates through, and the surrogate
    used (None: the victim itself).

    A :class:`~mmdl.models.ResCLWrapper` at the start of a task (``'target'``
    mode, the target branches a copy of the source) is attacked through a
    surrogate, its stage 1: the wrapped classifier in ``'target'`` mode,
    fine-tuned on the task without a regulariser (**reconstruction**: the
    combination stage, distilled from soft targets recorded on the
    poisoned data, and the merge are not simulated; its weight decay is
    left out). The earlier heads are read through the fine-tuned branches.

    Raises:
        ConfigError: A ResCL wrapper that is not in ``'target'`` mode.
    """
    from mmdl.models import ResCLWrapper
    if not isinstance(model, ResCLWrapper):
        return model, None
    if model.mode != 'target':
        raise ConfigError(
            f"ResCLWrapper is in {model.mode!r} mode at the start of the "
            "task; the attack needs the 'target' mode ResCLHook sets for "
            'every task after the first')
    return model.classifier, 'rescl-finetune'


def victim_weights(hook) -> Tuple[float, List[Tuple[Any, float]]]:
    """``(task_weight, [(regularizer, weight), ...])`` of the victim's
    objective for the next task: ``lambda_t alpha_t`` on the task loss,
    ``lambda_s alpha_s w`` on the regulariser and ``lambda_d`` on the
    damping (:class:`~mmdl.continual.ContinualObjective`; the adaptive
    scales are the checkpoint's running values, frozen)."""
    if hook is None:
        return 1.0, []
    objective = hook.objective
    old = objective.num_old_tasks
    lam_t, lam_s = ((1.0 / (old + 1),
                     old / (old + 1)) if objective.task_weighting else
                    (1.0, 1.0))
    alpha_t = alpha_s = 1.0
    if objective.adaptive_scaling:
        if objective.ema_task:
            alpha_t = 1.0 / max(objective.ema_task, 1e-12)
        if objective.ema_penalty:
            alpha_s = 1.0 / max(objective.ema_penalty, 1e-12)
    penalties = [(hook.regularizer,
                  lam_s * alpha_s * float(objective.penalty_weight))]
    if objective.damping:
        penalties.append((hook.damping, float(objective.damping)))
    return lam_t * alpha_t, penalties


def completed_tasks(ckpt: dict) -> Optional[int]:
    """The checkpoint's completed tasks (runtime info), None if absent."""
    hub = ckpt.get('message_hub')
    info = hub.get('runtime_info') if isinstance(hub, dict) else getattr(
        hub, 'runtime_info', None)
    if not isinstance(info, dict) or COMPLETED_KEY not in info:
        return None
    return int(info[COMPLETED_KEY])


# ----------------------------------------------------------------------
# the data
# ----------------------------------------------------------------------
def dataset_template(cfg) -> Tuple[dict, str]:
    """The training dataset template and the loop's task key.

    Raises:
        ConfigError: No dataset template, or a pipeline that changes the
            stored images.
    """
    loader = cfg.get('train_dataloader')
    if not isinstance(loader, dict) or not isinstance(
            loader.get('dataset'), dict):
        raise ConfigError('train_dataloader.dataset: expected the dataset '
                          'config template of the task sequence')
    template = loader['dataset']
    for index, step in enumerate(template.get('pipeline') or []):
        kind = step.get('type') if isinstance(step, dict) else step
        if kind not in PASS_THROUGH:
            raise ConfigError(
                f'train_dataloader.dataset.pipeline[{index}]: {kind!r} '
                'changes the stored images; the attack perturbs the model '
                'input, so the pipeline must be PackInputs only')
    task_key = (cfg.get('train_cfg') or {}).get('task_key', 'task_id')
    return template, task_key


def task_arrays(template: dict, task_key: str,
                task: int) -> Tuple[np.ndarray, np.ndarray, Optional[list]]:
    """Images (uint8 stack), labels and class names of a task's training
    set, built from the template without its pipeline."""
    from mmdl.registry import DATASETS
    cfg = copy.deepcopy(ConfigDict(template).to_dict())
    cfg[task_key] = task
    cfg['pipeline'] = []
    dataset = DATASETS.build(cfg)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not infos:
        raise ConfigError(f'train_dataloader.dataset: task {task} has no '
                          'training samples')
    images = np.stack([np.asarray(info['img']) for info in infos])
    if images.dtype != np.uint8:
        raise ConfigError(
            f'train_dataloader.dataset ({cfg["type"]}): images are '
            f'{images.dtype}, the attack needs uint8 images')
    labels = np.array([int(info['gt_label']) for info in infos])
    classes = dataset.metainfo.get('classes')
    return images, labels, (list(classes) if classes is not None else None)


def config_optimizer(cfg, task: Optional[int] = None) -> dict:
    """The config's ``optim_wrapper.optimizer`` (empty if there is none),
    with task ``task``'s ``train_cfg.task_cfgs`` override merged in as the
    training loop merges it."""
    from mmdl.engine.loops.task_optim import merge_optim_cfg
    wrapper = dict(cfg.get('optim_wrapper') or {})
    task_cfgs = (cfg.get('train_cfg') or {}).get('task_cfgs')
    if task is not None and task_cfgs and task < len(task_cfgs):
        wrapper = merge_optim_cfg(wrapper, (task_cfgs[task]
                                            or {}).get('optim_wrapper'))
    return dict(wrapper.get('optimizer') or {})


def default_inner_lr(cfg) -> float:
    """The config's optimiser learning rate (0.05 if there is none)."""
    return float(config_optimizer(cfg).get('lr', 0.05))


# ----------------------------------------------------------------------
# main
# ----------------------------------------------------------------------
def poison(args: argparse.Namespace, errors: friendly_errors) -> str:
    """Run the attack; return the output folder."""
    from mmdl.attacks import (FunctionalVictim, VictimOptimizer, budget_levels,
                              images_to_tensor, quantise_poison,
                              tensor_to_float_images)
    from mmdl.datasets.continual import write_poisoned_task
    from mmdl.registry import ATTACKS
    cfg = load_config(args.config)
    errors.cfg = cfg
    init_default_scope(cfg.get('default_scope', 'mmdl'))
    # fast refusals before anything runs: weights and regulariser state
    _, ckpt = load_victim_model(cfg, args.config, args.checkpoint)
    hook = regularizer_hook(cfg)
    if hook is not None:
        load_regularizer_state(hook, ckpt, args.checkpoint)
    template, task_key = dataset_template(cfg)
    completed = completed_tasks(ckpt)
    model, hook, poison_task, task_epochs = victim_at_next_task(
        cfg, args.checkpoint)
    if args.poison_task is not None and args.poison_task != poison_task:
        raise ConfigError(
            f'--poison-task {args.poison_task}: the run resumed from '
            f"checkpoint '{args.checkpoint}' starts task {poison_task} "
            'next; the attack poisons that task')
    target_task = args.target_task
    if not 0 <= target_task < poison_task:
        raise ConfigError(f'--target-task {target_task}: expected an earlier '
                          f'task than the poisoned task {poison_task}')
    images, labels, classes = task_arrays(template, task_key, poison_task)
    target_images, target_labels, _ = task_arrays(template, task_key,
                                                  target_task)
    if args.target_samples < 1:
        raise ConfigError(f'--target-samples {args.target_samples}: '
                          'expected a positive number')
    rng = np.random.default_rng(args.seed)
    count = min(args.target_samples, len(target_images))
    target_index = np.sort(
        rng.choice(len(target_images), size=count, replace=False))

    if args.keep_samples < 0:
        raise ConfigError(f'--keep-samples {args.keep_samples}: expected 0 '
                          'or a positive number')
    if args.keep_samples and args.mode != 'trajectory':
        raise ConfigError('--keep-samples: only the trajectory mode keeps '
                          'other tasks')
    dtype = next(model.parameters()).dtype
    keep, keep_counts = [], {}
    for task in range(poison_task):
        if task == target_task or not args.keep_samples:
            continue
        task_images, task_labels, _ = task_arrays(template, task_key, task)
        pick = np.sort(
            rng.choice(
                len(task_images),
                size=min(args.keep_samples, len(task_images)),
                replace=False))
        keep.append((images_to_tensor(task_images[pick], dtype),
                     torch.from_numpy(task_labels[pick]), task))
        keep_counts[task] = len(pick)
    task_weight, penalties = victim_weights(hook)
    network, surrogate = victim_network(model)
    victim = FunctionalVictim(network, penalties, task_weight=task_weight)
    batch_size = args.batch_size or int(
        cfg.train_dataloader.get('batch_size', 32))
    trajectory = args.mode == 'trajectory'
    attack = dict(
        type='ContinualPoisoner',
        eps=args.eps,
        mode=args.mode,
        steps=args.steps or (8 if trajectory else 240),
        step_size=args.step_size,
        momentum=args.momentum,
        unroll_steps=args.unroll_steps,
        inner_lr=(args.inner_lr
                  if args.inner_lr is not None else default_inner_lr(cfg)),
        objective=args.objective,
        w_cur=args.w_cur,
        target_batch_size=args.target_batch_size
        or (count if trajectory else 64),
        batch_size=batch_size,
        poison_ratio=args.poison_ratio,
        seed=args.seed,
        progress=not args.no_progress,
        init=args.init or ('zero' if trajectory else 'uniform'),
        target_loss=args.target_loss,
        kappa=args.kappa,
        clean_samples=args.clean_samples,
        w_keep=args.w_keep)
    if trajectory:
        optimizer = config_optimizer(cfg, poison_task)
        if cfg.get('param_scheduler'):
            print('note: the simulated victim keeps the learning rate '
                  'constant; the config has a param_scheduler')
        if not optimizer:
            raise ConfigError('optim_wrapper.optimizer: the trajectory mode '
                              "simulates the victim's optimiser; the config "
                              'has none')
        try:
            attack['victim_optimizer'] = VictimOptimizer.from_config(optimizer)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        attack['victim_epochs'] = args.victim_epochs or task_epochs
        if attack['victim_epochs'] < 1:
            raise ConfigError(f'train_cfg.max_epochs: task {poison_task} has '
                              'no epochs; there is no training to poison')
    poisoner = ATTACKS.build(attack)
    result = poisoner.poison(
        victim, images_to_tensor(images, dtype), torch.from_numpy(labels),
        poison_task, images_to_tensor(target_images[target_index], dtype),
        torch.from_numpy(target_labels[target_index]), target_task, keep)

    mask = np.zeros(len(images), dtype=bool)
    mask[result.indices.numpy()] = True
    quantised = quantise_poison(
        images, tensor_to_float_images(result.images, images.shape[1:]),
        args.eps, mask)
    change = np.abs(quantised.astype(np.int16) - images.astype(np.int16))
    levels = budget_levels(args.eps)
    if int(change.max()) > levels or change[~mask].any():
        raise RuntimeError('the quantised poison leaves the budget')
    regularizer = None if hook is None else hook.regularizer
    manifest: Dict[str, Any] = dict(
        poisoned_task=poison_task,
        target_task=target_task,
        classes=classes,
        epsilon=args.eps,
        epsilon_levels=levels,
        mode=args.mode,
        objective=args.objective,
        seed=args.seed,
        poison_ratio=args.poison_ratio,
        num_poisoned=int(mask.sum()),
        poisoned_indices=[int(i) for i in result.indices],
        max_abs_change_levels=int(change.max()),
        target_samples=int(count),
        keep_samples=keep_counts,
        attack=poisoner.config(),
        attack_seconds=round(result.seconds, 3),
        gradient_evaluations=result.gradient_evaluations,
        objective_first=result.history[0] if result.history else None,
        objective_last=result.history[-1] if result.history else None,
        checkpoint=osp.abspath(args.checkpoint),
        checkpoint_sha256=sha256_file(args.checkpoint),
        checkpoint_completed_tasks=completed,
        victim_old_tasks=None if hook is None else hook.num_consolidated,
        config=osp.abspath(args.config),
        dataset=template.get('type'),
        regularizer_hook=None if hook is None else type(hook).__name__,
        victim_surrogate=surrogate,
        regularizer=None
        if regularizer is None else type(regularizer).__name__,
        penalty_weight=None
        if hook is None else float(hook.objective.penalty_weight),
        victim_task_weight=task_weight,
        victim_penalty_weights=[w for _, w in penalties],
        clean_image_shape=list(images.shape[1:]),
        poisoned_image_shape=list(quantised.shape[1:]),
        mmdl_version=mmdl.__version__,
        torch_version=torch.__version__,
        created=datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'))
    write_poisoned_task(args.out_dir, quantised, labels, manifest)
    root = osp.abspath(args.out_dir)
    print(f'poisoned task {poison_task} (against task {target_task}): '
          f'{int(mask.sum())}/{len(images)} samples, eps {args.eps} '
          f'({levels} levels), {result.gradient_evaluations} gradient '
          f'evaluations in {result.seconds:.1f} s')
    print(f'poisoned data: {root}')
    print('train on it with (config custom_hooks):')
    print(f"    dict(type='TaskDataOverrideHook', datasets={{{poison_task}: "
          f"dict(type='PoisonedTaskDataset', data_root={root!r})}})")
    return root


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__), args.debug) as errors:
        return poison(args, errors)


if __name__ == '__main__':
    main()
