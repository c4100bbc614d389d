# Copyright (c) mmdl contributors. All rights reserved.
"""Memory Aware Synapses (MAS)."""
from typing import Dict, Iterable, List, Optional

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.registry import REGULARIZERS
from ..curvature import (_bn_normalised_input, _layer_grad, _layer_input,
                         find_layers)
from .base import LogitsFn
from .importance import ParameterImportanceRegularizer

#: How the importance of the tasks is combined.
MAS_ACCUMULATE = ('sum', 'mean')


@REGULARIZERS.register_module()
class MASRegularizer(ParameterImportanceRegularizer):
    """Memory Aware Synapses penalty ``sum_i Omega_i (theta_i -
    theta*_i)^2`` (Aljundi, Babiloni, Elhoseiny, Rohrbach, Tuytelaars,
    "Memory Aware Synapses: Learning what (not) to forget", ECCV 2018).

    At the end of every task (:meth:`consolidate`) the importance of each
    parameter entry is the mean over the task's samples of the absolute
    gradient of the squared L2 norm of the network output,

        ``Omega_i^task = 1/N sum_n |d ||f(x_n)||_2^2 / d theta_i|``,

    where ``f(x)`` is what ``logits_fn`` returns: the model's output logits
    (pre-softmax; for a multi-head model, those of the head the model
    computes for the batch, the current task's by default). No labels are
    used. The tasks' importances are summed (``accumulate='sum'``, default)
    or averaged, and the anchor ``theta*`` moves to the current weights.
    The scale ``lambda`` of the paper is ``penalty_weight`` of
    :class:`~mmdl.engine.hooks.RegularizerHook` (with
    ``task_weighting=False``).

    The importance is computed in eval mode (batch norm with its running
    statistics, dropout off) whatever mode the model is in: every module's
    train/eval flag is saved and restored afterwards, and running
    statistics are not updated (eval-mode batch norm does not update them).
    ``param.grad`` is not touched.

    ``per_sample=True`` (default) computes the per-sample gradients
    exactly, in one backward pass per batch: forward hooks keep each
    penalised layer's input, one ``torch.autograd.grad`` of ``sum_n
    ||f(x_n)||^2`` gives the per-sample gradients of the layer outputs
    (the samples are independent in eval mode), and the per-sample weight
    gradients are the products ``g_n a_n^T`` (summed over the locations of
    a convolution; ``(sum_t g xhat, sum_t g)`` for batch-norm gamma/beta),
    as the EWC diagonal is collected
    (:mod:`~mmdl.continual.curvature`). This is used instead of
    ``torch.func.vmap`` because ``logits_fn`` takes a whole batch of
    mmpretrain data samples, which cannot be mapped over. It assumes each
    penalised layer is called once per forward pass, and needs batch norms
    with running statistics. ``per_sample=False`` is the cheaper batch
    approximation of MAS's released implementation: per batch of ``B``
    samples, the absolute gradient of ``1/B sum_n ||f(x_n)||^2``, averaged
    over batches weighted by ``B`` (``|mean gradient| <= mean |gradient|``,
    so it is smaller and depends on the batch size).

    Args:
        per_sample (bool): Exact per-sample absolute gradients (see above).
            Defaults to True.
        accumulate (str): ``'sum'`` (``Omega = sum_tasks Omega^task``) or
            ``'mean'`` (their average over the consolidated tasks).
            Defaults to ``'sum'``.
        max_batches (int, optional): Batches used per task. Defaults to
            all.
        layers (list[str], optional): Module names of the Linear/Conv2d
            layers (and affine batch norms, with ``include_bn``) to
            penalise. Defaults to all.
        include_bn (bool): Also the batch-norm gamma/beta. Defaults to
            False.
    """

    def __init__(self,
                 per_sample: bool = True,
                 accumulate: str = 'sum',
                 max_batches: Optional[int] = None,
                 layers: Optional[List[str]] = None,
                 include_bn: bool = False) -> None:
        super().__init__(layers=layers, include_bn=include_bn)
        if accumulate not in MAS_ACCUMULATE:
            raise ValueError(f'{type(self).__name__}: accumulate='
                             f'{accumulate!r} is not one of {MAS_ACCUMULATE}')
        if max_batches is not None and (isinstance(max_batches, bool)
                                        or not isinstance(max_batches, int)
                                        or max_batches < 1):
            raise ValueError(f'{type(self).__name__}: max_batches must be a '
                             f'positive int or None, got {max_batches!r}')
        self.per_sample = bool(per_sample)
        self.accumulate = accumulate
        self.max_batches = max_batches

    def consolidate(self,
                    model: nn.Module,
                    batches: Optional[Iterable] = None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """Add the task's importance (eval mode, see the class doc) and
        move the anchor to the current weights.

        Args:
            model (nn.Module): The model at the end of the task.
            batches (Iterable): The task's batches.
            logits_fn (callable): ``logits_fn(model, batch) -> (logits,
                labels)``; the labels are not used.
            generator: Unused (nothing is sampled).

        Raises:
            ValueError: ``batches`` or ``logits_fn`` is missing, or there
                is no batch.
        """
        if batches is None or logits_fn is None:
            raise ValueError(f'{type(self).__name__}.consolidate needs the '
                             "task's batches and a logits_fn")
        modes = [(m, m.training) for m in model.modules()]
        model.eval()
        try:
            with torch.enable_grad():
                importance = self.task_importance(model, batches, logits_fn)
        finally:
            for module, mode in modes:
                module.training = mode
        self.add_importance(importance, self.accumulate)
        self.set_anchor(model)

    def task_importance(self, model: nn.Module, batches: Iterable,
                        logits_fn: LogitsFn) -> Dict[str, Tensor]:
        """``1/N sum_n |d ||f(x_n)||^2 / d theta|`` (or its batch
        approximation) over ``batches``, in the model's current mode.

        Args:
            model (nn.Module): The model (put it in eval mode first).
            batches (Iterable): The batches.
            logits_fn (callable): ``logits_fn(model, batch) -> (logits,
                labels)``.

        Returns:
            dict[str, Tensor]: Importance by parameter name.
        """
        params = self.penalised_parameters(model)
        sums = {n: torch.zeros_like(p.detach()) for n, p in params.items()}
        if self.per_sample:
            count = self._per_sample_sums(model, batches, logits_fn, params,
                                          sums)
        else:
            count = self._batch_sums(model, batches, logits_fn, params, sums)
        if count == 0:
            raise ValueError(f'{type(self).__name__}.consolidate: no batch '
                             'to compute the importance on')
        return {n: s / count for n, s in sums.items()}

    def _batches(self, batches: Iterable) -> Iterable:
        for index, batch in enumerate(batches):
            if self.max_batches is not None and index >= self.max_batches:
                return
            yield batch

    @staticmethod
    def _squared_norms(logits: Tensor) -> Tensor:
        """``||f(x_n)||^2`` per sample, (N, )."""
        return logits.reshape(logits.shape[0], -1).pow(2).sum(1)

    def _batch_sums(self, model, batches, logits_fn, params, sums) -> int:
        names = list(params)
        count = 0
        for batch in self._batches(batches):
            logits, _ = logits_fn(model, batch)
            num = logits.shape[0]
            grads = torch.autograd.grad(
                self._squared_norms(logits).mean(), [params[n] for n in names],
                allow_unused=True)
            for name, grad in zip(names, grads):
                if grad is not None:
                    sums[name] += num * grad.detach().abs()
            count += num
        return count

    def _per_sample_sums(self, model, batches, logits_fn, params, sums) -> int:
        layers = find_layers(model, self.layers, self.include_bn)
        for name, layer in layers.items():
            if isinstance(layer, _BatchNorm) and layer.running_mean is None:
                raise ValueError(
                    f'{type(self).__name__}: per_sample=True needs batch '
                    f'norms with running statistics, {name!r} has none '
                    '(its eval-mode output mixes the samples); use '
                    'per_sample=False')
        inputs: Dict[str, Tensor] = {}
        outputs: Dict[str, Tensor] = {}

        def make_hook(name):

            def hook(module, args, output):
                inputs[name] = args[0].detach()
                outputs[name] = output

            return hook

        handles = [
            layer.register_forward_hook(make_hook(name))
            for name, layer in layers.items()
        ]
        count = 0
        try:
            for batch in self._batches(batches):
                inputs.clear()
                outputs.clear()
                logits, _ = logits_fn(model, batch)
                names = [
                    n for n in layers
                    if n in outputs and outputs[n].requires_grad
                ]
                grads = torch.autograd.grad(
                    self._squared_norms(logits).sum(),
                    [outputs[n] for n in names],
                    allow_unused=True)
                for name, grad in zip(names, grads):
                    if grad is not None:
                        self._add_layer(name, layers[name], inputs[name],
                                        grad.detach(), params, sums)
                count += logits.shape[0]
        finally:
            for handle in handles:
                handle.remove()
        return count

    @staticmethod
    def _add_layer(name: str, layer: nn.Module, x: Tensor, g: Tensor,
                   params: Dict[str, Tensor], sums: Dict[str, Tensor]) -> None:
        """Add ``sum_n |per-sample gradient|`` of one layer's weight and
        bias to ``sums``."""
        prefix = f'{name}.' if name else ''
        if isinstance(layer, _BatchNorm):
            num, channels = g.shape[0], g.shape[1]
            g = g.reshape(num, channels, -1)
            xhat = _bn_normalised_input(layer, x).reshape(num, channels, -1)
            parts = {
                'weight': (g * xhat).sum(-1).abs().sum(0),
                'bias': g.sum(-1).abs().sum(0)
            }
        else:
            a = _layer_input(layer, x)  # (N, T, D (+1 with a bias))
            g = _layer_grad(layer, g)  # (N, T, C_out)
            if a.shape[1] == 1:  # |g a^T| = |g| |a|^T
                flat = g[:, 0].abs().T @ a[:, 0].abs()
            else:
                flat = torch.einsum('ntc,ntd->ncd', g, a).abs().sum(0)
            weight = layer.weight
            parts = {
                'weight': flat[:, :weight[0].numel()].reshape(weight.shape)
            }
            if layer.bias is not None:
                parts['bias'] = flat[:, -1]
        for pname, value in parts.items():
            full = prefix + pname
            if full in sums:
                sums[full] += value.to(sums[full].dtype)

    def state_dict(self) -> Dict:
        """``importance`` (``Omega``), ``anchors`` (``theta*``) and
        ``num_tasks`` (the count ``accumulate='mean'`` averages over)."""
        return super().state_dict()
