# Copyright (c) mmdl contributors. All rights reserved.
"""Curvature of Linear/Conv2d layers for quadratic continual-learning
penalties: EWC (diagonal Fisher), K-FAC and Extended K-FAC (XK-FAC).

J. Lee, H. G. Hong, D. Joo, J. Kim. "Continual Learning with Extended
Kronecker-factored Approximate Curvature". CVPR 2020 (arXiv:2004.07507).

Notation: a layer computes ``s = W a_bar`` with ``a_bar = [a; 1]`` when it
has a bias (the bias is the last column of ``W_bar``). For a mini-batch of
N examples and the batch loss ``L_B = sum_n l_n``, ``g_n = dL_B / ds_n``.
In train-mode batch norm every ``l_n`` depends on every ``s_m``, so the
Fisher of the batch gradient has cross terms ``n != m``:

    F = E[ sum_{n,m} (a_n a_m^T) kron (g_n g_m^T) ] / N.

**K-FAC** keeps ``n == m``: ``F ~ A kron G_d`` with ``A = E[a a^T]`` and
``G_d = E_B[sum_n g_n g_n^T] / N``.

**XK-FAC** (**Reconstruction**: the paper's equations were not available;
the factors below are derived from the batch Fisher above) keeps the cross
terms under the i.i.d. assumption ``E[a_n a_m^T] = mu mu^T``
(``mu = E[a]``):

    F ~ (A - mu mu^T) kron G_d + (mu mu^T) kron G_sum,
    G_sum = E_B[(sum_n g_n)(sum_n g_n)^T] / N.

Without batch norm the cross terms vanish in expectation and XK-FAC equals
K-FAC; for a layer feeding a train-mode batch norm directly
``sum_n g_n = 0`` and XK-FAC is K-FAC with the *centred* covariance.

Convolutions use the KFC "expand" convention (Grosse & Martens 2016): each
(example, location) pair is a row of the unfolded input; ``A`` is a
per-example sum over the T locations, ``G_d`` and ``G_sum`` are divided by
T, and ``mu`` is the per-example sum divided by sqrt(T), so that
``mu mu^T = T mu_loc mu_loc^T`` carries the cross terms of all
(example, location) pairs (and ``A - mu mu^T`` stays PSD).

Batch-norm affine parameters (``bn_curvature``; Reconstruction, the
paper's treatment of gamma/beta is not known): each channel c has the
two-vector ``(gamma_c, beta_c)``; example n contributes
``u_nc = sum_t dL_B/dy_ntc * (xhat_ntc, 1)``. ``'unitwise'`` keeps a 2x2
block per channel, ``'diag'`` its diagonal. K-FAC and EWC keep the
per-example terms ``sum_n u_n u_n^T``; XK-FAC keeps the cross terms of
train-mode batch norm as well, ``(sum_n u_n)(sum_n u_n)^T``, which for
gamma/beta is exact (no Kronecker approximation is involved).

Factors are collected in one pass per batch with forward hooks (inputs) and
one ``torch.autograd.grad`` call for all layer outputs, with batched matrix
products (no per-example loops), without touching ``.grad`` and with the
batch-norm running statistics restored afterwards.
"""
from dataclasses import dataclass, fields
from typing import Callable, Dict, Iterable, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

SUPPORTED_LAYERS = (nn.Linear, nn.Conv2d)
CURVATURES = ('ewc', 'kfac', 'xkfac')
FISHER_TYPES = ('true', 'empirical')
BN_CURVATURES = ('unitwise', 'diag')


def is_affine_bn(module: nn.Module) -> bool:
    """Whether ``module`` is a batch norm with learnable gamma/beta."""
    return isinstance(module, _BatchNorm) and module.affine


@dataclass
class LayerCurvature:
    """Curvature statistics of one layer for one task.

    Attributes:
        a (Tensor): ``A``, (D, D) with D = fan-in (+1 with a bias); None for
            EWC.
        mu (Tensor): ``mu``, (D, ).
        g (Tensor): ``G_d``, (C_out, C_out).
        g_sum (Tensor): ``G_sum``, (C_out, C_out); None for plain K-FAC.
        diag (Tensor): EWC diagonal Fisher, shaped like ``W_bar``; also
            the ``'diag'`` batch-norm curvature, (C, 2).
        unit (Tensor): ``'unitwise'`` batch-norm curvature, (C, 2, 2), one
            block per channel over ``(gamma_c, beta_c)``.
        num_examples (int): Examples seen.
        num_batches (int): Batches seen.
    """
    a: Optional[Tensor] = None
    mu: Optional[Tensor] = None
    g: Optional[Tensor] = None
    g_sum: Optional[Tensor] = None
    diag: Optional[Tensor] = None
    unit: Optional[Tensor] = None
    num_examples: int = 0
    num_batches: int = 0

    def normalised(self) -> 'LayerCurvature':
        """Divide the sums by the numbers of examples (see module doc)."""
        n = max(self.num_examples, 1)
        scale = lambda t: None if t is None else t / n  # noqa: E731
        return LayerCurvature(
            scale(self.a), scale(self.mu), scale(self.g), scale(self.g_sum),
            scale(self.diag), scale(self.unit), self.num_examples,
            self.num_batches)

    def centred_a(self) -> Tensor:
        """``A - mu mu^T``, computed once and cached (the penalty needs it
        at every training step)."""
        cached = self.__dict__.get('_centred_a')
        if cached is None:
            cached = self.a - torch.outer(self.mu, self.mu)
            self.__dict__['_centred_a'] = cached
        return cached

    def scale_outputs(self, r: Tensor) -> None:
        """Re-express the curvature of a Linear/Conv2d layer after its
        output channels are rescaled, ``W_bar_new = diag(r) W_bar_old``
        (exact: ``G -> G / (r r^T)``, ``diag -> diag / r^2``)."""
        ref = self.g if self.g is not None else self.diag
        r = r.to(ref)
        outer = torch.outer(r, r)
        if self.g is not None:
            self.g = self.g / outer
        if self.g_sum is not None:
            self.g_sum = self.g_sum / outer
        if self.diag is not None:
            self.diag = self.diag / (r * r)[:, None]

    def transform_unit(self, jac: Tensor) -> None:
        """Re-express a batch-norm curvature after the affine change of
        coordinates ``d_old = J d_new`` per channel (``jac``: (C, 2, 2)):
        ``U -> J^T U J``; a ``'diag'`` curvature keeps the diagonal of the
        transformed block."""
        jac = jac.to(self.unit if self.unit is not None else self.diag)
        if self.unit is not None:
            self.unit = jac.transpose(1, 2) @ self.unit @ jac
        if self.diag is not None:
            self.diag = torch.einsum('cki,ck->ci', jac * jac, self.diag)

    def to_state(self) -> Dict:
        """Plain dict of tensors and ints, for checkpoints."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {k: v for k, v in values.items() if v is not None}

    @classmethod
    def from_state(cls, state: Dict) -> 'LayerCurvature':
        return cls(**state)


def flat_weight(layer: nn.Module) -> Tensor:
    """``W_bar``: the weight as (C_out, fan_in) with the bias appended as
    the last column; ``(gamma, beta)`` as (C, 2) for a batch norm."""
    if isinstance(layer, _BatchNorm):
        return torch.stack([layer.weight, layer.bias], dim=1)
    weight = layer.weight.flatten(1)
    if layer.bias is None:
        return weight
    return torch.cat([weight, layer.bias[:, None]], dim=1)


def _layer_input(layer: nn.Module, x: Tensor) -> Tensor:
    """Rows ``a_bar`` of a layer input: (N, T, D), T = locations."""
    if isinstance(layer, nn.Conv2d):
        if layer.groups != 1:
            raise ValueError('grouped convolutions are not supported')
        x = F.unfold(
            x,
            layer.kernel_size,
            dilation=layer.dilation,
            padding=layer.padding,
            stride=layer.stride).transpose(1, 2)
    else:
        x = x.reshape(x.shape[0], -1, x.shape[-1])
    if layer.bias is not None:
        x = torch.cat([x, x.new_ones(x.shape[:-1] + (1, ))], dim=-1)
    return x


def _layer_grad(layer: nn.Module, g: Tensor) -> Tensor:
    """Output gradients as (N, T, C_out)."""
    if isinstance(layer, nn.Conv2d):
        return g.flatten(2).transpose(1, 2)
    return g.reshape(g.shape[0], -1, g.shape[-1])


def accumulate(stats: LayerCurvature, a: Tensor, g: Tensor,
               curvature: str) -> None:
    """Add one batch to the (unnormalised) statistics of a layer.

    Args:
        stats (LayerCurvature): The running sums, updated in place.
        a (Tensor): Layer inputs ``a_bar``, (N, T, D).
        g (Tensor): Gradients of the batch loss w.r.t. the layer outputs,
            (N, T, C_out).
        curvature (str): ``'ewc'``, ``'kfac'`` or ``'xkfac'``.
    """
    num, locations = a.shape[0], a.shape[1]
    if curvature == 'ewc':
        # per-example gradients sum_t g_nt a_nt^T, squared and summed
        if locations == 1:
            diag = (g[:, 0]**2).T @ (a[:, 0]**2)
        else:
            per_example = torch.einsum('ntc,ntd->ncd', g, a)
            diag = (per_example**2).sum(0)
        stats.diag = diag if stats.diag is None else stats.diag + diag
    else:
        rows_a = a.reshape(-1, a.shape[-1])
        rows_g = g.reshape(-1, g.shape[-1])
        batch_a = rows_a.T @ rows_a
        batch_g = (rows_g.T @ rows_g) / locations
        stats.a = batch_a if stats.a is None else stats.a + batch_a
        stats.g = batch_g if stats.g is None else stats.g + batch_g
        if curvature == 'xkfac':
            # sqrt(T): the cross terms of the T locations of all examples
            mu = rows_a.sum(0) / locations**0.5
            g_total = rows_g.sum(0)
            batch_g_sum = torch.outer(g_total, g_total) / locations
            stats.mu = mu if stats.mu is None else stats.mu + mu
            stats.g_sum = (
                batch_g_sum if stats.g_sum is None else stats.g_sum +
                batch_g_sum)
    stats.num_examples += num
    stats.num_batches += 1


def find_layers(model: nn.Module,
                names: Optional[Iterable[str]] = None,
                include_bn: bool = False) -> Dict[str, nn.Module]:
    """The supported layers (Linear, Conv2d) of a model, by name.

    Args:
        model (nn.Module): The model.
        names (Iterable[str], optional): Restrict to these module names.
        include_bn (bool): Also the affine batch norms. Defaults to False.

    Returns:
        dict: Module name to module, in model order.
    """
    layers = {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, SUPPORTED_LAYERS) or (
            include_bn and is_affine_bn(module))
    }
    if names is None:
        return layers
    missing = sorted(set(names) - set(layers))
    if missing:
        kinds = 'Linear/Conv2d/affine BatchNorm' if include_bn else \
            'Linear/Conv2d'
        raise KeyError(f'layers {missing} are not {kinds} modules of the '
                       'model')
    return {name: layers[name] for name in names}


def _bn_normalised_input(bn: _BatchNorm, x: Tensor) -> Tensor:
    """``xhat`` as the batch norm computed it (batch statistics in train
    mode, running statistics in eval mode), without updating anything."""
    use_batch = bn.training or bn.running_mean is None
    return F.batch_norm(
        x,
        None if use_batch else bn.running_mean,
        None if use_batch else bn.running_var,
        None,
        None,
        training=use_batch,
        momentum=0.0,
        eps=bn.eps)


def accumulate_bn(stats: LayerCurvature, xhat: Tensor, g: Tensor,
                  curvature: str, bn_curvature: str) -> None:
    """Add one batch to the gamma/beta statistics of a batch norm.

    Args:
        stats (LayerCurvature): The running sums, updated in place.
        xhat (Tensor): Normalised inputs, (N, C, ...).
        g (Tensor): Gradients of the batch loss w.r.t. the batch-norm
            outputs, like ``xhat``.
        curvature (str): ``'ewc'``, ``'kfac'`` or ``'xkfac'``.
        bn_curvature (str): ``'unitwise'`` or ``'diag'`` (EWC: always
            ``'diag'``).
    """
    num, channels = g.shape[0], g.shape[1]
    g = g.reshape(num, channels, -1)
    xhat = xhat.reshape(num, channels, -1)
    # per-example contributions u_n = sum_t g (xhat, 1): (N, C, 2)
    u = torch.stack([(g * xhat).sum(-1), g.sum(-1)], dim=-1)
    if curvature == 'xkfac':
        total = u.sum(0)
        block = total[:, :, None] * total[:, None, :]
    else:
        block = torch.einsum('nci,ncj->cij', u, u)
    if curvature == 'ewc' or bn_curvature == 'diag':
        diag = torch.diagonal(block, dim1=1, dim2=2)
        stats.diag = diag if stats.diag is None else stats.diag + diag
    else:
        stats.unit = block if stats.unit is None else stats.unit + block
    stats.num_examples += num
    stats.num_batches += 1


class _BatchNormState:
    """Save and restore the running statistics of all batch norms."""

    def __init__(self, model: nn.Module) -> None:
        self.saved = [(m, {
            k: v.clone()
            for k, v in m._buffers.items() if v is not None
        }) for m in model.modules() if isinstance(m, _BatchNorm)]

    def restore(self) -> None:
        with torch.no_grad():
            for module, buffers in self.saved:
                for key, value in buffers.items():
                    module._buffers[key].copy_(value)


def collect_curvature(
        model: nn.Module,
        batches: Iterable,
        logits_fn: Callable[[nn.Module, object], Tuple[Tensor, Tensor]],
        curvature: str = 'xkfac',
        fisher: str = 'true',
        layers: Optional[Dict[str, nn.Module]] = None,
        max_batches: Optional[int] = None,
        generator: Optional[torch.Generator] = None,
        bn_curvature: Optional[str] = None) -> Dict[str, LayerCurvature]:
    """Estimate the curvature of the layers over a task's data.

    The model is used in whatever train/eval mode it is in (train mode:
    batch-norm statistics of the batch, the setting XK-FAC is for; eval
    mode: the "fixed BN" baseline). Running statistics are restored after
    collection, and parameter ``.grad`` is not touched.

    Args:
        model (nn.Module): The model.
        batches (Iterable): Batches, e.g. a dataloader with the training
            batch size (the cross terms depend on the batch size).
        logits_fn (callable): ``logits_fn(model, batch) -> (logits,
            labels)``, logits (N, K) and ground-truth labels (N, ).
        curvature (str): ``'ewc'``, ``'kfac'`` or ``'xkfac'``. Defaults to
            ``'xkfac'``.
        fisher (str): ``'true'`` (labels sampled from the model's
            predictive distribution, one sample per example) or
            ``'empirical'`` (ground-truth labels). Defaults to ``'true'``.
        layers (dict, optional): Layers to collect, name to module.
            Defaults to every Linear/Conv2d layer (and every affine batch
            norm with ``bn_curvature``).
        max_batches (int, optional): Stop after this many batches.
        generator (torch.Generator, optional): Generator for sampled
            labels, for reproducible collection.
        bn_curvature (str, optional): ``'unitwise'`` or ``'diag'``
            curvature of the batch-norm gamma/beta (see the module doc).
            Defaults to None: batch norms get none.

    Returns:
        dict: Layer name to its normalised :class:`LayerCurvature`.
    """
    if curvature not in CURVATURES:
        raise ValueError(f'curvature={curvature!r} is not one of '
                         f'{CURVATURES}')
    if fisher not in FISHER_TYPES:
        raise ValueError(f'fisher={fisher!r} is not one of {FISHER_TYPES}')
    if bn_curvature is not None and bn_curvature not in BN_CURVATURES:
        raise ValueError(f'bn_curvature={bn_curvature!r} is not one of '
                         f'{BN_CURVATURES} or None')
    if layers is None:
        layers = find_layers(model, include_bn=bn_curvature is not None)
    if not layers:
        raise ValueError('the model has no Linear/Conv2d layer')
    stats = {name: LayerCurvature() for name in layers}
    inputs: Dict[str, Tensor] = {}
    outputs: Dict[str, Tensor] = {}

    def make_hook(name):

        def hook(module, args, output):
            inputs[name] = args[0].detach()
            outputs[name] = output

        return hook

    handles = [
        module.register_forward_hook(make_hook(name))
        for name, module in layers.items()
    ]
    bn_state = _BatchNormState(model)
    try:
        for index, batch in enumerate(batches):
            if max_batches is not None and index >= max_batches:
                break
            inputs.clear()
            outputs.clear()
            logits, labels = logits_fn(model, batch)
            if fisher == 'true':
                with torch.no_grad():
                    probs = logits.detach().float().softmax(-1)
                    labels = torch.multinomial(
                        probs, 1, generator=generator).squeeze(1)
            loss = F.cross_entropy(logits, labels, reduction='sum')
            names = [n for n in layers if n in outputs]
            grads = torch.autograd.grad(
                loss, [outputs[n] for n in names], allow_unused=True)
            for name, grad in zip(names, grads):
                if grad is None:
                    continue
                layer = layers[name]
                if isinstance(layer, _BatchNorm):
                    with torch.no_grad():
                        xhat = _bn_normalised_input(layer, inputs[name])
                    accumulate_bn(stats[name], xhat, grad.detach(), curvature,
                                  bn_curvature or 'unitwise')
                    continue
                accumulate(stats[name], _layer_input(layer, inputs[name]),
                           _layer_grad(layer, grad.detach()), curvature)
    finally:
        for handle in handles:
            handle.remove()
        bn_state.restore()
    return {name: s.normalised() for name, s in stats.items() if s.num_batches}
