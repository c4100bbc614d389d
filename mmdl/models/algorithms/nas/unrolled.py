# Copyright (c) mmdl contributors. All rights reserved.
"""DARTS' second-order architecture gradient, with a finite-difference
Hessian-vector product.

For architecture parameters ``a`` and weights ``w`` trained by SGD with
learning rate ``xi``, momentum ``mu`` (buffer ``b``) and weight decay
``wd``, the gradient of ``L_val(w'(a), a)`` after one virtual step
``w' = w - xi (mu b + grad_w L_train(w, a) + wd w)`` is

``grad_a L_val(w', a) - xi [grad_a L_train(w+, a) - grad_a L_train(w-, a)]
/ (2 r)``

with ``w+- = w +- r grad_w' L_val(w', a)`` and ``r = radius /
||grad_w' L_val(w', a)||`` (``cnn/architect.py`` of the DARTS reference
code). Every pass runs through :func:`torch.func.functional_call` with
copies of the buffers: the weights are never modified in place and batch
norm running statistics are untouched.
"""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.func import functional_call

#: ``loss_fn(module, params_and_buffers, batch) -> Tensor``.
LossFn = Callable[[nn.Module, Dict[str, Tensor], object], Tensor]


def _zeros_for_none(grads: Sequence[Optional[Tensor]],
                    like: Sequence[Tensor]) -> List[Tensor]:
    return [
        torch.zeros_like(p) if g is None else g for g, p in zip(grads, like)
    ]


def _sgd_hyperparameters(optimizer: torch.optim.Optimizer,
                         params: Sequence[Tensor]) -> List[tuple]:
    """``(lr, momentum, weight_decay, momentum_buffer)`` of each
    parameter."""
    found = {}
    for group in optimizer.param_groups:
        for p in group['params']:
            found[id(p)] = (group['lr'], group.get('momentum', 0.0),
                            group.get('weight_decay', 0.0))
    result = []
    for p in params:
        if id(p) not in found:
            raise KeyError('unrolled_arch_gradients: a weight is not in the '
                           'weight optimiser')
        buffer = optimizer.state.get(p, {}).get('momentum_buffer')
        result.append(found[id(p)] + (buffer, ))
    return result


def unrolled_arch_gradients(
        module: nn.Module,
        loss_fn: LossFn,
        train_batch,
        val_batch,
        arch_params: Sequence[Tensor],
        optimizer: torch.optim.Optimizer,
        radius: float = 0.01) -> Tuple[List[Optional[Tensor]], Tensor]:
    """Second-order architecture gradients of DARTS.

    Args:
        module (nn.Module): The network holding the weights (the
            architecture parameters may live in it; they are not replaced).
        loss_fn (callable): ``loss_fn(module, tensors, batch)`` returns the
            scalar loss of ``batch`` with ``module``'s parameters and
            buffers replaced by ``tensors`` (through
            :func:`torch.func.functional_call`).
        train_batch: The weight-training batch.
        val_batch: The architecture batch.
        arch_params (Sequence[Tensor]): Architecture parameters.
        optimizer (torch.optim.Optimizer): The weight optimiser (SGD): its
            parameters are the weights ``w``, its groups give ``xi``,
            ``mu`` and ``wd`` and its state the momentum buffers.
        radius (float): ``r`` is ``radius`` over the gradient norm.
            Defaults to 0.01, as in DARTS.

    Returns:
        tuple: The gradient of each architecture parameter (None where it
        does not reach the loss), and ``L_val(w', a)`` (detached).
    """
    in_optimizer = {
        id(p)
        for group in optimizer.param_groups
        for p in group['params']
    }
    names, weights = [], []
    for name, p in module.named_parameters():
        if id(p) in in_optimizer:
            names.append(name)
            weights.append(p)
    if not weights:
        raise ValueError('unrolled_arch_gradients: the weight optimiser '
                         "holds none of the module's parameters")
    buffers = {n: b.detach().clone() for n, b in module.named_buffers()}

    def loss_at(values: Sequence[Tensor], batch) -> Tensor:
        tensors = dict(zip(names, values))
        tensors.update({n: b.clone() for n, b in buffers.items()})
        return loss_fn(module, tensors, batch)

    # the virtual step w' = w - xi (mu b + grad + wd w)
    detached = [w.detach() for w in weights]
    grads = torch.autograd.grad(
        loss_at(weights, train_batch),
        weights,
        allow_unused=True,
        retain_graph=True)
    unrolled = []
    hyper = _sgd_hyperparameters(optimizer, weights)
    for w, g, (lr, mu, wd, buf) in zip(detached,
                                       _zeros_for_none(grads, weights), hyper):
        step = g.detach() + wd * w
        if buf is not None:
            step = step + mu * buf
        unrolled.append((w - lr * step).requires_grad_())

    # grad_a and grad_w' of L_val(w', a)
    arch = list(arch_params)
    val_loss = loss_at(unrolled, val_batch)
    grads = torch.autograd.grad(
        val_loss, arch + unrolled, allow_unused=True, retain_graph=True)
    arch_grads, dw = list(grads[:len(arch)]), _zeros_for_none(
        grads[len(arch):], unrolled)
    norm = torch.sqrt(sum((d.double()**2).sum() for d in dw))
    if float(norm) == 0.0:
        return arch_grads, val_loss.detach()
    r = radius / float(norm)
    # xi times the Hessian-vector product; with several learning rates
    # each weight's direction is scaled by its rate relative to the first
    xi = hyper[0][0]
    direction = [d * (h[0] / xi) if xi else d for d, h in zip(dw, hyper)]

    # the Hessian-vector product by central differences
    def arch_grad_at(sign: float) -> List[Optional[Tensor]]:
        moved = [w + sign * r * d for w, d in zip(detached, direction)]
        return list(
            torch.autograd.grad(
                loss_at(moved, train_batch),
                arch,
                allow_unused=True,
                retain_graph=True))

    plus, minus = arch_grad_at(1.0), arch_grad_at(-1.0)
    result = []
    for g, gp, gm in zip(arch_grads, plus, minus):
        if g is None and gp is None and gm is None:
            result.append(None)
            continue
        like = next(t for t in (g, gp, gm) if t is not None)
        g, gp, gm = (
            torch.zeros_like(like) if t is None else t for t in (g, gp, gm))
        result.append(g - xi * (gp - gm) / (2 * r))
    return result, val_loss.detach()


def functional_loss(module: nn.Module, tensors: Dict[str, Tensor],
                    batch) -> Tensor:
    """The ``loss_fn`` of an mmpretrain classifier: the sum of the
    ``loss*`` entries of ``module.loss(inputs, data_samples)`` with
    ``tensors`` in place of its parameters and buffers.

    Args:
        module (nn.Module): An ``ImageClassifier``.
        tensors (dict): Parameter and buffer replacements.
        batch (dict): A preprocessed batch (``inputs``, ``data_samples``).

    Returns:
        Tensor: The loss.
    """
    losses = functional_call(
        module,
        tensors, (batch['inputs'], batch['data_samples']),
        dict(mode='loss'),
        strict=False)
    return sum(v for k, v in losses.items() if 'loss' in k)
