# Copyright (c) mmdl contributors. All rights reserved.
"""The task-targeted poison generator for regularised continual learning.

**Reconstruction** of the attack of Han et al., "Data Poisoning Attack
Aiming the Vulnerability of Continual Learning" (ICIP 2023), whose
generation procedure is not published; the threat model is in
:mod:`mmdl.attacks`, the objectives in :mod:`mmdl.attacks.objectives`.
"""
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmdl.registry import ATTACKS
from .objectives import (OBJECTIVES, gradient_matching_objective,
                         target_ascent_direction, unrolled_objective)
from .trajectory import (TARGET_LOSSES, BatchNormTracker, VictimOptimizer,
                         epoch_batches, trajectory_objective)
from .victim import FunctionalVictim

MODES = ('trajectory', 'unrolled', 'gradient_matching')
INITS = ('uniform', 'zero')


@dataclass
class PoisonResult:
    """What :meth:`ContinualPoisoner.poison` returns.

    Attributes:
        images (Tensor): The poisoned images in ``[0, 1]``, ``(N, C, H,
            W)``, float (before any quantisation); unpoisoned samples are
            the clean images.
        delta (Tensor): ``images - clean``; zero outside
            :attr:`indices`.
        indices (Tensor): Sorted int64 indices of the poisoned samples.
        gradient_evaluations (int): Gradients of the attack objective with
            respect to ``delta`` computed (one per batch and iteration).
        seconds (float): Wall-clock time of the generation.
        history (list[float]): Per iteration, the objective averaged over
            the batches (evaluated before that iteration's step).
    """

    images: Tensor
    delta: Tensor
    indices: Tensor
    gradient_evaluations: int = 0
    seconds: float = 0.0
    history: List[float] = field(default_factory=list)


@ATTACKS.register_module()
class ContinualPoisoner:
    """Poison the training data of a new task ``T`` so that the victim,
    trained on it with its regulariser, forgets an earlier task ``k``.

    **Reconstruction** (see the module docstring). The perturbation
    ``delta`` of every poisoned sample is optimised by signed gradient
    steps (MI-FGSM style):

    1. ``delta = 0`` (``init='zero'``) or ``delta ~ U[-eps, eps]``
       (``'uniform'``, seeded), projected;
    2. ``steps`` iterations: the attack objective (``mode``) on the batch,
       with a fresh task-``k`` reference batch of ``target_batch_size``
       drawn from the attacker's sample each iteration; its gradient
       ``g`` with respect to ``delta``; the momentum ``m <- momentum m +
       g / ||g||_1`` (L1 norm per sample; ``momentum=0`` uses ``g``);
       ``delta <- delta - step_size sign(m)``;
    3. projection after every step onto ``||delta||_inf <= eps`` and
       ``x + delta in [0, 1]``; unpoisoned samples keep ``delta = 0``.

    In the per-batch modes (``'unrolled'``, ``'gradient_matching'``),
    task-``T`` data are processed in batches of ``batch_size`` in dataset
    order (each batch optimised on its own, vectorised over the batch);
    batches without a poisoned sample are skipped. The poisoned samples
    are a seeded random ``round(poison_ratio * N)`` of the ``N``; clean
    samples in a batch stay in it, as they would in the victim's batches.

    The simulated victim of ``mode='unrolled'`` is plain SGD with learning
    rate ``inner_lr`` on ``task_weight L_T + w R`` (see
    :class:`~mmdl.attacks.FunctionalVictim`), without momentum or weight
    decay, for ``unroll_steps`` steps on the batch.

    ``mode='trajectory'`` (default) unrolls the victim's whole training
    instead (:mod:`mmdl.attacks.trajectory`): every iteration draws a new
    order of all of task ``T`` in batches of ``batch_size``, replays
    ``victim_epochs`` epochs of the victim's optimiser
    (``victim_optimizer``) on the poisoned data with the regulariser and
    differentiable batch-norm statistics, and takes the gradient of
    :func:`~mmdl.attacks.trajectory.trajectory_objective` with respect to
    all perturbations at once: the ``target_loss`` of the trained victim on
    ``target_batch_size`` task-``k`` samples plus ``w_cur`` times its loss
    on ``clean_samples`` clean task-``T`` samples (0 for ``'reckless'``).
    The step rule and the projections are those above.

    Args:
        eps (float): ``L_inf`` budget in ``[0, 1]`` pixel space. Defaults
            to 0.03.
        mode (str): ``'trajectory'``, ``'unrolled'`` or
            ``'gradient_matching'``. Defaults to ``'trajectory'``.
        steps (int): Iterations ``I`` per batch (``'trajectory'``: over the
            whole task). Defaults to 8 (the per-batch modes need more,
            e.g. 240).
        step_size (float, optional): ``alpha``. Defaults to ``4 eps / I``.
        momentum (float): ``mu``. Defaults to 1.
        unroll_steps (int): ``J`` victim steps (``'unrolled'``). Defaults
            to 3.
        inner_lr (float): Victim learning rate ``eta`` (``'unrolled'``).
            Defaults to 0.05 (the SGD rate of mmdl's permuted-digits
            configs; the tool passes the config's).
        objective (str): ``'cautious'`` or ``'reckless'`` (``'unrolled'``).
            Defaults to ``'cautious'``.
        w_cur (float): Weight of the clean task-``T`` loss of the cautious
            objective. Defaults to 5.
        target_batch_size (int): Task-``k`` samples per iteration. Defaults
            to 64.
        batch_size (int): Task-``T`` samples per batch (``'trajectory'``:
            the victim's batch size). Defaults to 32.
        poison_ratio (float): Fraction of task ``T`` poisoned, in ``(0,
            1]``. Defaults to 1.
        seed (int): Seed of the initialisation, the poisoned subset, the
            reference batches and the simulated data orders. Defaults to 0.
        init (str): ``'uniform'`` (``delta ~ U[-eps, eps]``) or ``'zero'``.
            Defaults to ``'zero'``.
        victim_optimizer (dict | VictimOptimizer, optional): The victim's
            optimiser (``'trajectory'``; a dict as
            :meth:`VictimOptimizer.from_config` takes). Defaults to SGD at
            ``inner_lr``.
        victim_epochs (int): Epochs of the simulated training
            (``'trajectory'``). Defaults to 1.
        target_loss (str): ``'margin'`` or ``'ce'`` (``'trajectory'``, see
            :func:`~mmdl.attacks.trajectory.target_term`). Defaults to
            ``'margin'``.
        kappa (float): Margin of ``'margin'``. Defaults to 2.
        clean_samples (int): Clean task-``T`` samples of the cautious term
            per iteration (``'trajectory'``). Defaults to 512.
        w_keep (float): Weight of the cross-entropy on samples of other
            earlier tasks, when :meth:`poison` gets them (``'trajectory'``;
            an attacker stronger than the default threat model). Defaults
            to 1.
        progress (bool): Show mmengine's progress bar. Defaults to True.
    """

    def __init__(self,
                 eps: float = 0.03,
                 mode: str = 'trajectory',
                 steps: int = 8,
                 step_size: Optional[float] = None,
                 momentum: float = 1.0,
                 unroll_steps: int = 3,
                 inner_lr: float = 0.05,
                 objective: str = 'cautious',
                 w_cur: float = 5.0,
                 target_batch_size: int = 64,
                 batch_size: int = 32,
                 poison_ratio: float = 1.0,
                 seed: int = 0,
                 progress: bool = True,
                 init: str = 'zero',
                 victim_optimizer: Optional[Any] = None,
                 victim_epochs: int = 1,
                 target_loss: str = 'margin',
                 kappa: float = 2.0,
                 clean_samples: int = 512,
                 w_keep: float = 1.0) -> None:
        name = type(self).__name__
        if init not in INITS:
            raise ValueError(f'{name}: init={init!r} is not one of {INITS}')
        if target_loss not in TARGET_LOSSES:
            raise ValueError(f'{name}: target_loss={target_loss!r} is not '
                             f'one of {TARGET_LOSSES}')
        if kappa < 0:
            raise ValueError(f'{name}: kappa={kappa} must be >= 0')
        if victim_optimizer is None:
            victim_optimizer = VictimOptimizer(type='sgd', lr=inner_lr)
        elif isinstance(victim_optimizer, dict):
            victim_optimizer = VictimOptimizer.from_config(victim_optimizer)
        elif not isinstance(victim_optimizer, VictimOptimizer):
            raise TypeError(f'{name}: victim_optimizer must be a dict or a '
                            'VictimOptimizer, got '
                            f'{type(victim_optimizer).__name__}')
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f'{name}: eps={eps} must be in [0, 1] (pixel '
                             'space)')
        if mode not in MODES:
            raise ValueError(f'{name}: mode={mode!r} is not one of {MODES}')
        if objective not in OBJECTIVES:
            raise ValueError(f'{name}: objective={objective!r} is not one '
                             f'of {OBJECTIVES}')
        for key, value in (('steps', steps), ('unroll_steps', unroll_steps),
                           ('target_batch_size',
                            target_batch_size), ('batch_size', batch_size),
                           ('victim_epochs', victim_epochs), ('clean_samples',
                                                              clean_samples)):
            if int(value) != value or value < 1:
                raise ValueError(f'{name}: {key}={value} must be a positive '
                                 'integer')
        if not 0.0 < poison_ratio <= 1.0:
            raise ValueError(f'{name}: poison_ratio={poison_ratio} must be '
                             'in (0, 1]')
        if step_size is not None and step_size <= 0:
            raise ValueError(f'{name}: step_size={step_size} must be '
                             'positive')
        if momentum < 0:
            raise ValueError(f'{name}: momentum={momentum} must be >= 0')
        self.eps = float(eps)
        self.mode = mode
        self.steps = int(steps)
        self.step_size = float(step_size) if step_size is not None else (
            4.0 * self.eps / self.steps)
        self.momentum = float(momentum)
        self.unroll_steps = int(unroll_steps)
        self.inner_lr = float(inner_lr)
        self.objective = objective
        self.w_cur = float(w_cur)
        self.target_batch_size = int(target_batch_size)
        self.batch_size = int(batch_size)
        self.poison_ratio = float(poison_ratio)
        self.seed = int(seed)
        self.progress = progress
        self.init = init
        self.victim_optimizer = victim_optimizer
        self.victim_epochs = int(victim_epochs)
        self.target_loss = target_loss
        self.kappa = float(kappa)
        self.clean_samples = int(clean_samples)
        self.w_keep = float(w_keep)

    def config(self) -> Dict[str, Any]:
        """The hyperparameters, as written to the manifest."""
        return dict(
            type=type(self).__name__,
            eps=self.eps,
            mode=self.mode,
            steps=self.steps,
            step_size=self.step_size,
            momentum=self.momentum,
            unroll_steps=self.unroll_steps,
            inner_lr=self.inner_lr,
            objective=self.objective,
            w_cur=self.w_cur,
            target_batch_size=self.target_batch_size,
            batch_size=self.batch_size,
            poison_ratio=self.poison_ratio,
            seed=self.seed,
            init=self.init,
            victim_optimizer=dict(
                vars(self.victim_optimizer),
                betas=list(self.victim_optimizer.betas)),
            victim_epochs=self.victim_epochs,
            target_loss=self.target_loss,
            kappa=self.kappa,
            clean_samples=self.clean_samples,
            w_keep=self.w_keep)

    # ------------------------------------------------------------------
    # pieces
    # ------------------------------------------------------------------
    def select_indices(self, num: int, generator: torch.Generator) -> Tensor:
        """The sorted indices of the ``round(poison_ratio * num)`` (at least
        one) poisoned samples."""
        count = max(1, int(round(self.poison_ratio * num)))
        if count >= num:
            return torch.arange(num)
        return torch.randperm(num, generator=generator)[:count].sort().values

    def project(self, x: Tensor, delta: Tensor, mask: Tensor) -> Tensor:
        """``delta`` projected onto the ``eps`` ball, ``x + delta`` onto
        ``[0, 1]``, and zeroed where ``mask`` is 0."""
        delta = delta.clamp(-self.eps, self.eps)
        return ((x + delta).clamp(0.0, 1.0) - x) * mask

    def initial_delta(self, x: Tensor, mask: Tensor,
                      generator: torch.Generator) -> Tensor:
        """The start of ``delta`` (:attr:`init`), projected."""
        noise = torch.rand(x.shape, generator=generator, dtype=x.dtype)
        if self.init == 'zero':
            noise.fill_(0.5)
        return self.project(x, (2 * noise - 1) * self.eps, mask)

    def signed_step(self, x: Tensor, delta: Tensor, grad: Tensor,
                    velocity: Tensor, mask: Tensor) -> tuple:
        """One projected signed step with momentum on the per-sample
        L1-normalised gradient; returns ``(delta, velocity)``."""
        with torch.no_grad():
            if self.momentum > 0:
                norm = grad.abs().flatten(1).sum(1).clamp_min(1e-12)
                velocity = self.momentum * velocity + grad / norm.view(
                    -1, *([1] * (grad.dim() - 1)))
                step = velocity.sign()
            else:
                step = grad.sign()
            return self.project(x, delta - self.step_size * step,
                                mask), velocity

    def attack_loss(self, victim: FunctionalVictim, params: Dict[str, Tensor],
                    x: Tensor, delta: Tensor, y: Tensor, task_id: int,
                    target: tuple) -> Tensor:
        """The objective of :attr:`mode` (minimised over ``delta``).

        Args:
            victim (FunctionalVictim): The victim.
            params (dict[str, Tensor]): ``theta*``.
            x (Tensor): Clean task-``T`` batch in ``[0, 1]``.
            delta (Tensor): Perturbation.
            y (Tensor): Labels.
            task_id (int): ``T``.
            target (tuple): ``(x_k, y_k, k)``, a task-``k`` batch.

        Returns:
            Tensor: The scalar objective.
        """
        if self.mode == 'unrolled':
            return unrolled_objective(
                victim,
                params,
                x,
                delta,
                y,
                task_id,
                target,
                unroll_steps=self.unroll_steps,
                inner_lr=self.inner_lr,
                objective=self.objective,
                w_cur=self.w_cur)
        direction = target_ascent_direction(victim, params, target)
        return gradient_matching_objective(victim, params, x, delta, y,
                                           task_id, direction)

    # ------------------------------------------------------------------
    # generation
    # ------------------------------------------------------------------
    def _progress_bar(self, total: int):
        """mmengine's progress bar over ``total`` updates, or None."""
        if not self.progress:
            return None
        from mmengine.utils import ProgressBar
        return ProgressBar(total)

    @staticmethod
    def _end_progress(bar) -> None:
        if bar is not None:
            bar.file.write('\n')
            bar.file.flush()

    def _optimise_batches(self, victim: FunctionalVictim, images: Tensor,
                          labels: Tensor, task_id: int, target_images: Tensor,
                          target_labels: Tensor, target_task: int,
                          mask: Tensor, generator: torch.Generator) -> tuple:
        """``'unrolled'`` / ``'gradient_matching'``: each batch of task
        ``T`` optimised on its own; returns ``(delta, history,
        evaluations)``."""
        params = victim.initial_params()
        num = len(images)
        delta_all = torch.zeros_like(images)
        batches = [(s, min(s + self.batch_size, num))
                   for s in range(0, num, self.batch_size)
                   if mask[s:s + self.batch_size].any()]
        history = [0.0] * self.steps
        evaluations = 0
        bar = self._progress_bar(len(batches) * self.steps)
        num_target = len(target_images)
        for first, last in batches:
            x, y = images[first:last], labels[first:last]
            m = mask[first:last].view(-1, *([1] * (x.dim() - 1)))
            delta = self.initial_delta(x, m, generator)
            velocity = torch.zeros_like(delta)
            for it in range(self.steps):
                pick = torch.randperm(
                    num_target, generator=generator)[:self.target_batch_size]
                target = (target_images[pick], target_labels[pick],
                          target_task)
                delta.requires_grad_(True)
                loss = self.attack_loss(victim, params, x, delta, y, task_id,
                                        target)
                grad, = torch.autograd.grad(loss, delta)
                evaluations += 1
                history[it] += float(loss.detach()) / len(batches)
                delta, velocity = self.signed_step(x, delta, grad, velocity, m)
                if bar is not None:
                    bar.update()
            delta_all[first:last] = delta.detach()
        self._end_progress(bar)
        return delta_all, (history if batches else []), evaluations

    def _optimise_trajectory(
        self,
        victim: FunctionalVictim,
        images: Tensor,
        labels: Tensor,
        task_id: int,
        target_images: Tensor,
        target_labels: Tensor,
        target_task: int,
        mask: Tensor,
        generator: torch.Generator,
        keep: Sequence[Tuple[Tensor, Tensor, int]] = ()
    ) -> tuple:
        """``'trajectory'``: all perturbations optimised jointly through the
        simulated training; returns ``(delta, history, evaluations)``."""
        params = victim.initial_params()
        tracker = BatchNormTracker(victim.model)
        num, num_target = len(images), len(target_images)
        m = mask.view(-1, *([1] * (images.dim() - 1)))
        delta = self.initial_delta(images, m, generator)
        velocity = torch.zeros_like(delta)
        w_cur = self.w_cur if self.objective == 'cautious' else 0.0
        history = []
        bar = self._progress_bar(self.steps)
        for _ in range(self.steps):
            batches = epoch_batches(num, self.batch_size, self.victim_epochs,
                                    generator)
            pick = torch.randperm(
                num_target, generator=generator)[:self.target_batch_size]
            clean = torch.randperm(
                num, generator=generator)[:self.clean_samples]
            delta.requires_grad_(True)
            loss = trajectory_objective(
                victim,
                params,
                images,
                delta,
                labels,
                task_id,
                (target_images[pick], target_labels[pick], target_task),
                batches,
                self.victim_optimizer,
                tracker,
                clean_index=clean,
                w_cur=w_cur,
                target_loss=self.target_loss,
                kappa=self.kappa,
                keep=keep,
                w_keep=self.w_keep)
            grad, = torch.autograd.grad(loss, delta)
            history.append(float(loss.detach()))
            delta, velocity = self.signed_step(images, delta, grad, velocity,
                                               m)
            if bar is not None:
                bar.update()
        self._end_progress(bar)
        return delta.detach(), history, self.steps

    def poison(
        self,
        victim: FunctionalVictim,
        images: Tensor,
        labels: Tensor,
        task_id: int,
        target_images: Tensor,
        target_labels: Tensor,
        target_task: int,
        keep: Sequence[Tuple[Tensor, Tensor, int]] = ()
    ) -> PoisonResult:
        """Generate the poisoned task-``T`` images.

        Args:
            victim (FunctionalVictim): The victim at ``theta*`` with its
                regulariser.
            images (Tensor): Clean task-``T`` images in ``[0, 1]``, ``(N, C,
                H, W)``, in the dtype of the model.
            labels (Tensor): Their labels, ``(N, )`` int64 (unchanged).
            task_id (int): ``T``.
            target_images (Tensor): The attacker's task-``k`` sample in
                ``[0, 1]``.
            target_labels (Tensor): Its labels.
            target_task (int): ``k``.
            keep (Sequence[tuple]): ``(images, labels, task)`` samples of
                other earlier tasks whose accuracy the attack keeps
                (``'trajectory'`` only; see ``w_keep``). Defaults to none.

        Returns:
            PoisonResult: The poisoned images and the attack cost.
        """
        name = type(self).__name__
        if images.dim() != 4 or target_images.dim() != 4:
            raise ValueError(f'{name}: images must be (N, C, H, W), got '
                             f'{tuple(images.shape)} and '
                             f'{tuple(target_images.shape)}')
        if len(labels) != len(images) or len(target_labels) != len(
                target_images):
            raise ValueError(f'{name}: images and labels differ in length')
        if not len(images) or not len(target_images):
            raise ValueError(f'{name}: empty task-T data or target sample')
        if images.min() < 0 or images.max() > 1:
            raise ValueError(f'{name}: images must be in [0, 1]')
        start = time.perf_counter()
        generator = torch.Generator().manual_seed(self.seed)
        num = len(images)
        indices = self.select_indices(num, generator)
        mask = torch.zeros(num, dtype=images.dtype)
        mask[indices] = 1
        if keep and self.mode != 'trajectory':
            raise ValueError(f'{name}: samples of other tasks to keep need '
                             f"mode='trajectory', not {self.mode!r}")
        if self.mode == 'trajectory':
            delta_all, history, evaluations = self._optimise_trajectory(
                victim, images, labels, task_id, target_images, target_labels,
                target_task, mask, generator, keep)
        else:
            delta_all, history, evaluations = self._optimise_batches(
                victim, images, labels, task_id, target_images, target_labels,
                target_task, mask, generator)
        # exact clean values outside the poisoned samples, [0, 1] inside
        poisoned = torch.where(
            mask.view(-1, *([1] * (images.dim() - 1))).bool(),
            (images + delta_all).clamp(0.0, 1.0), images)
        return PoisonResult(
            images=poisoned,
            delta=delta_all,
            indices=indices,
            gradient_evaluations=evaluations,
            seconds=time.perf_counter() - start,
            history=history)
