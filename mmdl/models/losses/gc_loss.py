# Copyright (c) mmdl contributors. All rights reserved.
"""Gradient Collision (GC) loss of disposable transfer learning (Koh,
Shon, Lee, Hong and Kim, ICCV 2023)."""
import fnmatch
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdl.registry import MODELS
from .base_disposal_loss import BaseDisposalLoss, source_logits

SIMILARITIES = ('cosine', 'inner_product')
HVP_MODES = ('exact', 'finite_difference')
FD_SCHEMES = ('forward', 'central')


class SourcePasses:
    """The source loss of mini-batch ``k``, replayable with other parameter
    values.

    The first call of each mini-batch records the random-number state, and
    every later call (a finite-difference pass) replays it, so dropout
    draws the same masks; the batch-norm mode is re-applied on each call
    (:func:`~.base_disposal_loss.source_logits`), and so is the autocast
    state in force when the passes were created (the backward pass of
    mixed-precision training runs outside autocast). Parameters given in ``override`` replace
    the model's own through :func:`torch.func.functional_call`: the model
    is never modified in place, so graphs that saved its weights (the
    target loss's) stay valid.

    Args:
        model (nn.Module): Source network, inputs to logits.
        inputs (Sequence[Tensor]): The K mini-batches.
        targets (Sequence[Tensor]): Their labels.
        norm (str): ``'train'`` or ``'frozen'``.
    """

    def __init__(self, model: nn.Module, inputs: Sequence[Tensor],
                 targets: Sequence[Tensor], norm: str) -> None:
        self.model = model
        self.inputs = list(inputs)
        self.targets = list(targets)
        self.norm = norm
        device_type = self.inputs[0].device.type
        self._autocast = dict(
            device_type=device_type,
            enabled=torch.is_autocast_enabled(device_type),
            dtype=torch.get_autocast_dtype(device_type))
        self._states: Dict[int, tuple] = {}
        #: Mini-batch index to its loss at the model's own parameters
        #: (detached), recorded by the first call.
        self.losses: Dict[int, Tensor] = {}

    def __len__(self) -> int:
        return len(self.inputs)

    def _devices(self) -> List[int]:
        device = self.inputs[0].device
        return [device.index or 0] if device.type == 'cuda' else []

    def __call__(self,
                 k: int,
                 override: Optional[Dict[str, Tensor]] = None) -> Tensor:
        """Cross-entropy of mini-batch ``k``, optionally with the parameters
        in ``override`` (name to tensor) in place of the model's."""
        devices = self._devices()
        if k not in self._states:
            self._states[k] = (torch.get_rng_state(),
                               [torch.cuda.get_rng_state(d) for d in devices])
            loss = self._loss(k, override)
            self.losses[k] = loss.detach()
            return loss
        with torch.random.fork_rng(devices=devices):
            cpu_state, cuda_states = self._states[k]
            torch.set_rng_state(cpu_state)
            for d, state in zip(devices, cuda_states):
                torch.cuda.set_rng_state(state, d)
            return self._loss(k, override)

    def _loss(self, k: int, override: Optional[Dict[str, Tensor]]) -> Tensor:
        with torch.autocast(**self._autocast):
            logits = source_logits(self.model, self.inputs[k], self.norm,
                                   override)
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()
        return F.cross_entropy(logits, self.targets[k])


def _flat(grads: Sequence[Optional[Tensor]],
          params: Sequence[Tensor]) -> Tensor:
    """Concatenate gradients (None for unused parameters: zeros)."""
    return torch.cat([(torch.zeros_like(p) if g is None else g).reshape(-1)
                      for g, p in zip(grads, params)])


class _FiniteDifferenceCollision(torch.autograd.Function):
    """Collision value in the forward pass; its parameter gradient
    ``sum_k H_k v_k`` by finite differences of gradients in the backward
    pass (``v_k = d collision / d g_k``)."""

    @staticmethod
    def forward(ctx, gc: 'GCLoss', passes: SourcePasses, names: List[str],
                selected: List[bool], *params: Tensor) -> Tensor:
        with torch.enable_grad():
            full = []
            for k in range(len(passes)):
                grads = torch.autograd.grad(
                    passes(k), params, allow_unused=True)
                full.append(_flat(grads, params))
            mask = torch.cat([
                torch.full((p.numel(), ), s, device=p.device, dtype=torch.bool)
                for p, s in zip(params, selected)
            ])
            stacked = torch.stack(full)
            chosen = (stacked if all(selected) else stacked[:, mask]).detach()
            chosen.requires_grad_(True)
            value = gc.collision(chosen)
            directions, = torch.autograd.grad(value, chosen)
        ctx.gc, ctx.passes, ctx.names = gc, passes, names
        ctx.selected = selected
        ctx.save_for_backward(stacked, directions, *params)
        return value.detach()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        stacked, directions, *params = ctx.saved_tensors
        gc, passes = ctx.gc, ctx.passes
        sel_params = [p for p, s in zip(params, ctx.selected) if s]
        sel_names = [n for n, s in zip(ctx.names, ctx.selected) if s]
        sizes = [p.numel() for p in sel_params]
        hvp = torch.zeros_like(stacked[0])
        with torch.enable_grad():
            for k in range(len(passes)):
                norm = directions[k].norm()
                if norm == 0:
                    continue
                radius = gc.fd_radius / norm

                def grad_at(sign: float) -> Tensor:
                    pieces = directions[k].split(sizes)
                    override = {
                        name: (p.detach() + sign * radius *
                               d.view_as(p)).requires_grad_(True)
                        for name, p, d in zip(sel_names, sel_params, pieces)
                    }
                    inputs = []
                    it = iter(override.values())
                    for p, s in zip(params, ctx.selected):
                        inputs.append(next(it) if s else p)
                    loss = passes(k, override)
                    grads = torch.autograd.grad(
                        loss, inputs, allow_unused=True)
                    return _flat(grads, inputs)

                if gc.fd_scheme == 'forward':
                    hvp += (grad_at(1.0) - stacked[k]) / radius
                else:
                    hvp += (grad_at(1.0) - grad_at(-1.0)) / (2 * radius)
        hvp = hvp * grad_output
        grads = [g.view_as(p) for g, p in zip(
            hvp.split([p.numel() for p in params]), params)]
        return (None, None, None, None, *grads)


@MODELS.register_module()
class GCLoss(BaseDisposalLoss):
    """Gradient Collision loss: drive the source-loss gradients of K >= 2
    source mini-batches apart.

    With ``g_k`` the gradient of mini-batch ``k``'s source cross-entropy
    with respect to the chosen parameters (``params``), flattened, the
    default value is the mean pairwise cosine

    ``L_GC = 1 / (K (K - 1)) sum_{i != j} cos(g_i, g_j)
    = (||sum_k u_k||^2 - sum_k ||u_k||^2) / (K (K - 1))``,

    ``u_k = g_k / sqrt(||g_k||^2 + eps^2)`` (the ``eps`` keeps near-zero
    gradients finite; for ``||g_k|| >> eps`` it is the usual identity
    ``sum_{i != j} cos = ||sum_k u_k||^2 - K``). All pairs come from the
    K x K Gram matrix ``G G^T``; there is no loop over pairs. Minimising it
    makes the mini-batch gradients conflict, so SGD on the source data
    (piggyback retraining) makes little progress. With
    ``similarity='inner_product'`` the value is the mean pairwise inner
    product of the gradients clipped to norm ``max_norm`` (unclipped it is
    unbounded below).

    The gradient of ``L_GC`` needs Hessian-vector products
    ``sum_k H_k v_k`` with ``v_k = dL_GC / dg_k``:

    * ``hvp='exact'``: ``torch.autograd.grad(..., create_graph=True)``
      and double backward;
    * ``hvp='finite_difference'`` (default): the first-order gradients are
      taken without a graph, and the backward pass adds
      ``(g_k(theta + r v_k) - g_k(theta)) / r`` with
      ``r = fd_radius / ||v_k||`` (DARTS' second-order approximation): one
      extra gradient evaluation per mini-batch (two with
      ``fd_scheme='central'``). Batch-norm running statistics are left
      untouched and dropout masks are replayed.

    The gradient reaches every trainable parameter of the source network
    (also those outside ``params``, through mixed second derivatives), in
    both modes.

    Reconstruction: the paper states only that GC loss leads the
    mini-batch gradients in different directions. The cosine form, the
    pairwise mean, the parameter set, the source cross-entropy as the loss
    producing the gradients, the safe normalisation and the
    finite-difference default are design choices made here.

    Args:
        similarity (str): ``'cosine'`` or ``'inner_product'``. Defaults to
            ``'cosine'``.
        params (Sequence[str]): :mod:`fnmatch` patterns over the source
            network's parameter names selecting the parameters of ``g_k``
            (only trainable ones), e.g. ``('backbone.layer4.*', )`` for the
            last stage. Defaults to the feature extractor,
            ``('backbone.*', 'neck.*')``.
        hvp (str): ``'exact'`` or ``'finite_difference'``. Defaults to
            ``'finite_difference'``.
        fd_scheme (str): ``'forward'`` or ``'central'`` differences.
            Defaults to ``'forward'``.
        fd_radius (float): Length of the parameter perturbation ``r
            ||v_k||``. Defaults to 1e-2.
        max_norm (float): Gradient-norm clip of the inner product.
            Defaults to 1.
        eps (float): See above. Defaults to 1e-8.
        loss_weight (float): Multiplies the loss. Defaults to 1.
    """

    def __init__(self,
                 similarity: str = 'cosine',
                 params: Sequence[str] = ('backbone.*', 'neck.*'),
                 hvp: str = 'finite_difference',
                 fd_scheme: str = 'forward',
                 fd_radius: float = 1e-2,
                 max_norm: float = 1.0,
                 eps: float = 1e-8,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        for name, value, allowed in (('similarity', similarity, SIMILARITIES),
                                     ('hvp', hvp, HVP_MODES),
                                     ('fd_scheme', fd_scheme, FD_SCHEMES)):
            if value not in allowed:
                raise ValueError(f'GCLoss: {name} must be one of {allowed}, '
                                 f'got {value!r}')
        if isinstance(params, str):
            params = (params, )
        if not params:
            raise ValueError('GCLoss: params needs at least one pattern')
        if fd_radius <= 0 or max_norm <= 0 or eps <= 0:
            raise ValueError('GCLoss: fd_radius, max_norm and eps must be '
                             f'> 0, got {fd_radius}, {max_norm}, {eps}')
        self.similarity = similarity
        self.params = tuple(params)
        self.hvp = hvp
        self.fd_scheme = fd_scheme
        self.fd_radius = float(fd_radius)
        self.max_norm = float(max_norm)
        self.eps = float(eps)

    def named_gradient_parameters(
            self, model: nn.Module) -> List[Tuple[str, nn.Parameter]]:
        """The trainable parameters of ``model`` that ``params`` selects.

        Raises:
            ValueError: No trainable parameter matches.
        """
        named = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad and self._selects(n)]
        if not named:
            trainable = [n for n, p in model.named_parameters()
                         if p.requires_grad]
            raise ValueError(
                f'GCLoss: params={list(self.params)} matches no trainable '
                f'parameter of the source network; its trainable parameters '
                f'are e.g. {trainable[:5]}')
        return named

    def _selects(self, name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, pat) for pat in self.params)

    def collision(self, grads: Tensor) -> Tensor:
        """The collision value of stacked gradients.

        Args:
            grads (Tensor): ``(K, P)``, one flattened gradient per row.

        Returns:
            Tensor: The mean over ordered pairs ``i != j`` of the similarity
            (cosine, or clipped inner product).
        """
        num = grads.shape[0]
        if num < 2:
            raise ValueError(f'GCLoss: needs K >= 2 gradients, got {num}')
        gram = grads @ grads.T
        sq_norms = gram.diagonal()
        if self.similarity == 'cosine':
            scale = (sq_norms + self.eps**2).rsqrt()
        else:
            scale = (self.max_norm /
                     (sq_norms + self.eps**2).sqrt()).clamp(max=1.0)
        sim = gram * scale[:, None] * scale[None, :]
        return (sim.sum() - sim.diagonal().sum()) / (num * (num - 1))

    def forward(self,
                model: nn.Module,
                inputs: Sequence[Tensor],
                targets: Sequence[Tensor],
                norm: str = 'train') -> Dict[str, Tensor]:
        """``loss_gc`` (weighted collision value) and ``source_ce`` (the
        mean source cross-entropy of the mini-batches, detached)."""
        self.check_batches('GCLoss', inputs, targets, 2)
        passes = SourcePasses(model, inputs, targets, norm)
        chosen = dict(self.named_gradient_parameters(model))
        named = [(n, p) for n, p in model.named_parameters()
                 if p.requires_grad]
        if self.hvp == 'exact':
            params = list(chosen.values())
            rows = []
            for k in range(len(passes)):
                grads = torch.autograd.grad(
                    passes(k), params, create_graph=True, allow_unused=True)
                rows.append(_flat(grads, params))
            value = self.collision(torch.stack(rows))
        else:
            value = _FiniteDifferenceCollision.apply(
                self, passes, [n for n, _ in named],
                [n in chosen for n, _ in named], *[p for _, p in named])
        source_ce = torch.stack(list(passes.losses.values())).mean()
        return dict(
            loss_gc=self.loss_weight * value,
            gc_similarity=value.detach(),
            source_ce=source_ce)

