# Copyright (c) mmdl contributors. All rights reserved.
"""The victim's whole training on the poisoned task, differentiable in the
poison.

**Reconstruction** (mmdl's, not the paper's): the short unrolls of
:mod:`mmdl.attacks.objectives` simulate a few plain SGD steps on one
batch, while the victim trains for epochs with its own optimiser (Adam in
mmdl's continual configs) and, with batch norm, ends with running
statistics set by the new task. :func:`simulate_training` replays that
training: the victim's optimiser (:class:`VictimOptimizer`: Adam with L2
weight decay as ``torch.optim.Adam``, or SGD with momentum), its batch
size and number of steps, over an order of the task's data that the
attacker draws itself (the victim's shuffling is unknown; a new order per
attack iteration averages over orders). Batch-norm running statistics are
tracked differentiably (:class:`BatchNormTracker`): the final model is
evaluated in eval mode, with the statistics the poisoned data leave
behind, as the victim is tested.
"""
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from .victim import FunctionalVictim

OPTIMIZERS = ('adam', 'sgd')


@dataclass
class VictimOptimizer:
    """The victim's optimiser, as the attacker simulates it.

    Attributes:
        type (str): ``'adam'`` (``torch.optim.Adam`` with ``weight_decay``
            added to the gradient) or ``'sgd'`` (``torch.optim.SGD`` with
            ``momentum`` and ``weight_decay``, no dampening or Nesterov).
        lr (float): Learning rate.
        betas (tuple): Adam's ``(beta1, beta2)``.
        eps (float): Adam's ``eps``.
        momentum (float): SGD momentum.
        weight_decay (float): L2 factor added to the gradient.
    """

    type: str = 'adam'
    lr: float = 1e-3
    betas: Tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    momentum: float = 0.0
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if self.type not in OPTIMIZERS:
            raise ValueError(f'VictimOptimizer: type={self.type!r} is not '
                             f'one of {OPTIMIZERS}')
        if self.lr <= 0:
            raise ValueError(f'VictimOptimizer: lr={self.lr} must be '
                             'positive')

    @classmethod
    def from_config(cls, optimizer: dict) -> 'VictimOptimizer':
        """From an mmengine ``optim_wrapper.optimizer`` dict (``type`` Adam
        or SGD, with or without a scope prefix).

        Raises:
            ValueError: Another optimiser type.
        """
        kind = str(optimizer.get('type', 'SGD')).split('.')[-1].lower()
        if kind not in OPTIMIZERS:
            raise ValueError(
                f"optim_wrapper.optimizer.type: {optimizer.get('type')!r}; "
                f'the simulated victim supports Adam and SGD')
        return cls(
            type=kind,
            lr=float(optimizer.get('lr', 1e-3 if kind == 'adam' else 0.01)),
            betas=tuple(optimizer.get('betas', (0.9, 0.999))),
            eps=float(optimizer.get('eps', 1e-8)),
            momentum=float(optimizer.get('momentum', 0.0)),
            weight_decay=float(optimizer.get('weight_decay', 0.0)))

    def init_state(self, params: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """Zero moment buffers (``m``/``v`` for Adam, the momentum buffer for
        SGD) and the step count."""
        state = {'step': torch.zeros(())}
        for name, p in params.items():
            state[f'm.{name}'] = torch.zeros_like(p)
            if self.type == 'adam':
                state[f'v.{name}'] = torch.zeros_like(p)
        return state

    def step(self, params: Dict[str, Tensor], grads: Dict[str, Tensor],
             state: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """One differentiable update of the parameters in ``grads`` (the
        others are left as they are); updates ``state`` in place (its
        entries are replaced, not modified)."""
        state['step'] = state['step'] + 1
        t = float(state['step'])
        new = dict(params)
        for name, g in grads.items():
            p = params[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.type == 'sgd':
                if self.momentum:
                    buf = g if t == 1 else (
                        self.momentum * state[f'm.{name}'] + g)
                    state[f'm.{name}'] = buf
                    g = buf
                new[name] = p - self.lr * g
                continue
            beta1, beta2 = self.betas
            m = beta1 * state[f'm.{name}'] + (1 - beta1) * g
            v = beta2 * state[f'v.{name}'] + (1 - beta2) * g * g
            state[f'm.{name}'], state[f'v.{name}'] = m, v
            m_hat = m / (1 - beta1**t)
            # the tiny shift keeps d sqrt / dv finite where v is exactly 0
            denom = (v / (1 - beta2**t) + 1e-30).sqrt() + self.eps
            new[name] = p - self.lr * m_hat / denom
        return new


class BatchNormTracker:
    """Differentiable running statistics of a model's batch-norm layers.

    Inside :meth:`tracking`, forward pre-hooks on every ``_BatchNorm``
    layer in train mode take the batch mean and unbiased variance of the
    layer's input (differentiable) and update the running estimates with
    the layer's momentum, as the layer does. Inside :meth:`evaluating`,
    forward hooks on the layers in eval mode replace their outputs by
    ``weight (x - mean) / sqrt(var + eps) + bias`` with the tracked
    estimates, so gradients reach them (``torch.batch_norm`` does not
    differentiate with respect to its running statistics).

    Args:
        model (nn.Module): The victim.

    Raises:
        ValueError: A batch-norm layer averages cumulatively
            (``momentum=None``) or has no running statistics.
    """

    def __init__(self, model: nn.Module) -> None:
        self.layers = {
            name: m
            for name, m in model.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
        }
        for name, layer in self.layers.items():
            if layer.momentum is None or not layer.track_running_stats:
                raise ValueError(
                    f'BatchNormTracker: layer {name!r} has momentum=None or '
                    'no running statistics; only exponential running '
                    'averages are simulated')
        self.stats: Dict[str, Tuple[Tensor, Tensor]] = {}
        self.reset()

    def reset(self) -> None:
        """Start from the model's running statistics (``theta*``)."""
        self.stats = {
            name: (layer.running_mean.detach().clone(),
                   layer.running_var.detach().clone())
            for name, layer in self.layers.items()
        }

    def detach(self) -> None:
        """Cut the estimates from the graph."""
        self.stats = {
            name: (mean.detach(), var.detach())
            for name, (mean, var) in self.stats.items()
        }

    @staticmethod
    def _dims(x: Tensor) -> List[int]:
        return [0] + list(range(2, x.dim()))

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Update the estimates from every train-mode forward."""

        def make(name: str):

            def hook(module: nn.Module, args: tuple) -> None:
                if not module.training:
                    return
                x = args[0]
                dims = self._dims(x)
                count = x.numel() // x.size(1)
                mean = x.mean(dims)
                var = x.var(dims, unbiased=count > 1)
                old_mean, old_var = self.stats[name]
                mom = module.momentum
                self.stats[name] = ((1 - mom) * old_mean + mom * mean,
                                    (1 - mom) * old_var + mom * var)

            return hook

        with self._hooks('register_forward_pre_hook', make):
            yield

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Eval-mode batch norm with the tracked estimates."""

        def make(name: str):

            def hook(module: nn.Module, args: tuple, output: Tensor):
                if module.training:
                    return None
                x = args[0]
                shape = [1, -1] + [1] * (x.dim() - 2)
                mean, var = self.stats[name]
                y = (x - mean.view(shape)) / (var.view(shape) +
                                              module.eps).sqrt()
                if module.affine:
                    y = y * module.weight.view(shape) + module.bias.view(shape)
                return y

            return hook

        with self._hooks('register_forward_hook', make):
            yield

    @contextmanager
    def _hooks(self, register: str, make) -> Iterator[None]:
        """``make(name)`` registered on every layer with the layer method
        ``register`` while the context runs."""
        handles = [
            getattr(layer, register)(make(name))
            for name, layer in self.layers.items()
        ]
        try:
            yield
        finally:
            for handle in handles:
                handle.remove()


def simulate_training(victim: FunctionalVictim,
                      params: Dict[str, Tensor],
                      images: Tensor,
                      labels: Tensor,
                      task_id: int,
                      batches: Sequence[Tensor],
                      optimizer: VictimOptimizer,
                      tracker: Optional[BatchNormTracker] = None,
                      create_graph: bool = True) -> Dict[str, Tensor]:
    """The victim's parameters after training on ``batches`` of the task,
    differentiable in ``images`` (second-order: every inner gradient is
    taken with ``create_graph=True``).

    Args:
        victim (FunctionalVictim): The victim (train-mode forward, its
            regularisers evaluated at the simulated parameters).
        params (dict[str, Tensor]): ``theta*``.
        images (Tensor): The task's (poisoned) images in ``[0, 1]``.
        labels (Tensor): Their labels.
        task_id (int): The task.
        batches (Sequence[Tensor]): Index tensors, one per victim step.
        optimizer (VictimOptimizer): The victim's optimiser.
        tracker (BatchNormTracker, optional): Updated with the batch-norm
            statistics of every step (call its ``reset`` first).
        create_graph (bool): Keep the graph (a differentiable result).
            False only replays the training, each step detached (for
            evaluation). Defaults to True.

    Returns:
        dict[str, Tensor]: The final parameters.
    """
    theta = {n: p.detach().requires_grad_(True) for n, p in params.items()}
    state = optimizer.init_state(theta)
    names = list(theta)
    with torch.enable_grad():
        for index in batches:
            if tracker is not None:
                with tracker.tracking():
                    loss = victim.victim_loss(theta, images[index],
                                              labels[index], task_id)
            else:
                loss = victim.victim_loss(theta, images[index], labels[index],
                                          task_id)
            grads = torch.autograd.grad(
                loss, [theta[n] for n in names],
                create_graph=create_graph,
                allow_unused=True)
            theta = optimizer.step(theta, {
                n: g
                for n, g in zip(names, grads) if g is not None
            }, state)
            if not create_graph:
                theta = {
                    n: p.detach().requires_grad_(True)
                    for n, p in theta.items()
                }
                for key in state:
                    state[key] = state[key].detach()
                if tracker is not None:
                    tracker.detach()
    return theta


def epoch_batches(num: int, batch_size: int, epochs: int,
                  generator: torch.Generator) -> List[Tensor]:
    """Index batches of ``epochs`` shuffled passes over ``num`` samples (the
    last batch of a pass may be smaller, as with ``drop_last=False``)."""
    batches = []
    for _ in range(epochs):
        order = torch.randperm(num, generator=generator)
        batches.extend(order.split(batch_size))
    return batches


TARGET_LOSSES = ('ce', 'margin')


def target_term(logits: Tensor,
                labels: Tensor,
                target_loss: str = 'margin',
                kappa: float = 2.0) -> Tensor:
    """The attacker's loss on the targeted task (minimised).

    Args:
        logits (Tensor): ``(N, C)`` logits of the trained victim on the
            attacker's task-``k`` sample.
        labels (Tensor): Their true labels.
        target_loss (str): ``'ce'``: ``-CE`` (unbounded: a few samples
            driven to huge losses can dominate it); ``'margin'``: the
            mean of ``max(z_y - max_{j != y} z_j, -kappa)`` (Carlini-Wagner
            style: a sample stops counting once it is misclassified by
            ``kappa``, so the budget goes to the others and to stealth).
        kappa (float): Margin of ``'margin'``.

    Returns:
        Tensor: A scalar.
    """
    if target_loss == 'ce':
        return -torch.nn.functional.cross_entropy(logits, labels)
    if target_loss != 'margin':
        raise ValueError(f'target_loss={target_loss!r} is not one of '
                         f'{TARGET_LOSSES}')
    true = logits.gather(1, labels[:, None])[:, 0]
    other = logits.scatter(1, labels[:, None], float('-inf')).max(1).values
    return (true - other).clamp(min=-kappa).mean()


def trajectory_objective(victim: FunctionalVictim,
                         params: Dict[str, Tensor],
                         images: Tensor,
                         delta: Tensor,
                         labels: Tensor,
                         task_id: int,
                         target: Tuple[Tensor, Tensor, int],
                         batches: Sequence[Tensor],
                         optimizer: VictimOptimizer,
                         tracker: Optional[BatchNormTracker] = None,
                         clean_index: Optional[Tensor] = None,
                         w_cur: float = 1.0,
                         target_loss: str = 'margin',
                         kappa: float = 2.0,
                         keep: Sequence[Tuple[Tensor, Tensor, int]] = (),
                         w_keep: float = 1.0) -> Tensor:
    """The attack loss of the simulated training (module docstring):
    :func:`target_term` of the trained victim on the attacker's task-``k``
    sample plus ``w_cur`` times its cross-entropy on clean task-``T``
    samples ``clean_index`` (the "cautious" term) plus ``w_keep`` times its
    mean cross-entropy on samples ``keep`` (``(x, y, task)``) of other
    earlier tasks, when the attacker has them, all in eval mode with the
    tracked batch-norm statistics.

    Returns:
        Tensor: The scalar objective.
    """
    if tracker is not None:
        tracker.reset()
    theta = simulate_training(victim, params, images + delta, labels, task_id,
                              batches, optimizer, tracker)
    target_x, target_y, target_task = target
    with (tracker.evaluating() if tracker is not None else nullcontext()):
        loss = target_term(
            victim.logits(theta, target_x, target_task, train_mode=False),
            target_y, target_loss, kappa)
        if w_cur and clean_index is not None and len(clean_index):
            clean = victim.logits(
                theta, images[clean_index], task_id, train_mode=False)
            loss = loss + w_cur * torch.nn.functional.cross_entropy(
                clean, labels[clean_index])
        if w_keep and keep:
            loss = loss + w_keep * sum(
                torch.nn.functional.cross_entropy(
                    victim.logits(theta, x, task, train_mode=False), y)
                for x, y, task in keep) / len(keep)
    return loss
