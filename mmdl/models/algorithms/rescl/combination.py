# Copyright (c) mmdl contributors. All rights reserved.
"""Layer-wise residual combination of a source and a target network (ResCL).

A network built from Linear/Conv2d layers and batch norms is cut into
*units*, the affine pieces between nonlinearities:

* ``layer+norm``: a Linear/Conv2d layer whose output feeds only a batch
  norm (conv-BN-ReLU, Linear-BN1d-ReLU);
* ``layer``: a Linear/Conv2d layer not followed by a batch norm (the
  second conv of a pre-activation block, a plain MLP layer);
* ``norm``: a batch norm not fed by a layer (the pre-activation
  ``BN-ReLU-conv`` of PreActResNet and WideResNet blocks).

:class:`ResidualCombination` replaces each unit: it holds a frozen source
branch, a trainable target branch and per-output-channel coefficients, and
computes ``(1 + a_s) * f_s(x) + a_t * f_t(x)`` with both branches fed the
same (combined) input. The combination therefore sits after each branch's
batch norm and before the nonlinearity (Lee et al., AAAI 2020). Each branch
is affine in ``x`` once its batch norm uses running statistics, so the
combined network merges back exactly into one network of the original
architecture (:mod:`.merge`).

Units are found from one forward pass: ``find_bn_pairs`` pairs a batch norm
with the layer whose output tensor is its input, and the autograd graph of
the pass tells whether that output feeds anything else (then the layer and
the batch norm are separate units). No per-architecture code.
"""
import copy
from typing import Callable, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.continual.bn_merge import find_bn_pairs

#: Layers a unit may start with.
COMBINABLE_LAYERS = (nn.Linear, nn.Conv2d)

#: The three modes of a :class:`ResidualCombination`.
MODES = ('source', 'target', 'combined')

#: Parts of a classifier that are combined (heads are not).
COMBINED_PARTS = ('backbone', 'neck')


class UnitSpec(NamedTuple):
    """Where a unit sits in the network (module names, None if absent)."""
    layer: Optional[str]
    norm: Optional[str]

    @property
    def name(self) -> str:
        """The module name the :class:`ResidualCombination` takes."""
        return self.layer if self.layer is not None else self.norm

    @property
    def kind(self) -> str:
        """``'layer+norm'``, ``'layer'`` or ``'norm'``."""
        if self.layer is None:
            return 'norm'
        return 'layer' if self.norm is None else 'layer+norm'


class AffineBranch(nn.Module):
    """One branch of a unit: ``layer`` (Linear/Conv2d) then ``norm`` (batch
    norm); either may be None."""

    def __init__(self, layer: Optional[nn.Module],
                 norm: Optional[_BatchNorm]) -> None:
        super().__init__()
        self.add_module('layer', layer)
        self.add_module('norm', norm)

    @property
    def out_channels(self) -> int:
        """int: Output channels (the combination's coefficients)."""
        if self.norm is not None:
            return self.norm.num_features
        return (self.layer.out_features if isinstance(self.layer, nn.Linear)
                else self.layer.out_channels)

    def forward(self, x: Tensor) -> Tensor:
        if self.layer is not None:
            x = self.layer(x)
        if self.norm is not None:
            x = self.norm(x)
        return x


class ResidualCombination(nn.Module):
    """A unit of the source network combined with a target copy,
    ``h(x) = (1 + alpha_source) * f_s(x) + alpha_target * f_t(x)`` per
    output channel.

    ``mode`` selects what :meth:`forward` computes: ``'source'`` (``f_s``
    only, the original network), ``'target'`` (``f_t`` only, the
    fine-tuned copy) or ``'combined'``. While :attr:`source_frozen` is True
    the source branch stays in eval mode (running statistics) whatever
    ``train()`` sets; :attr:`target_norm_eval` does the same for the target
    branch's batch norm.

    Args:
        layer (nn.Linear | nn.Conv2d, optional): The unit's layer.
        norm (_BatchNorm, optional): The unit's batch norm.
        alpha_init (tuple[float, float]): Initial ``(alpha_source,
            alpha_target)``. Defaults to ``(-0.5, 0.5)``: the unit starts
            at the mean of the two branches, like mean-IMM.
    """

    def __init__(self,
                 layer: Optional[nn.Module],
                 norm: Optional[_BatchNorm],
                 alpha_init: tuple = (-0.5, 0.5)) -> None:
        super().__init__()
        if layer is None and norm is None:
            raise ValueError('a unit needs a layer, a batch norm or both')
        self.source = AffineBranch(layer, norm)
        self.target = copy.deepcopy(self.source)
        channels = self.source.out_channels
        weight = (layer if layer is not None else norm).weight
        like = dict(dtype=weight.dtype, device=weight.device)
        self.alpha_source = nn.Parameter(torch.empty(channels, **like))
        self.alpha_target = nn.Parameter(torch.empty(channels, **like))
        self.reset_alpha(alpha_init)
        self.mode = 'source'
        self.source_frozen = False
        self.target_norm_eval = False

    @torch.no_grad()
    def reset_alpha(self, alpha_init: tuple = (-0.5, 0.5)) -> None:
        """Set the coefficients to ``(alpha_source, alpha_target)``."""
        self.alpha_source.fill_(float(alpha_init[0]))
        self.alpha_target.fill_(float(alpha_init[1]))

    @property
    def mode(self) -> str:
        """str: ``'source'``, ``'target'`` or ``'combined'``."""
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self._mode = mode

    def train(self, mode: bool = True) -> 'ResidualCombination':
        super().train(mode)
        if self.source_frozen:
            self.source.eval()
        if self.target_norm_eval and self.target.norm is not None:
            self.target.norm.eval()
        return self

    def forward(self, x: Tensor) -> Tensor:
        if self._mode == 'source':
            return self.source(x)
        if self._mode == 'target':
            return self.target(x)
        source, target = self.source(x), self.target(x)
        shape = (1, -1) + (1, ) * (source.dim() - 2)
        return torch.addcmul(source * (1 + self.alpha_source.view(shape)),
                             target, self.alpha_target.view(shape))


def find_units(network: nn.Module,
               run_forward: Callable[[], object]) -> List[UnitSpec]:
    """The combinable units of ``network``, in module order.

    Args:
        network (nn.Module): A network built from Linear/Conv2d layers,
            batch norms and parameter-free modules.
        run_forward (callable): Runs one forward pass of ``network`` (used
            to pair each batch norm with the layer feeding it).

    Returns:
        list[UnitSpec]: One entry per unit (empty for a network without
        parameters).

    Raises:
        TypeError: A module with parameters is neither a Linear/Conv2d
            layer nor a batch norm (it could not be merged).
        ValueError: A batch norm without affine parameters or running
            statistics.
    """
    for name, module in network.named_modules():
        if isinstance(module, COMBINABLE_LAYERS + (_BatchNorm, )):
            if isinstance(module, _BatchNorm) and (
                    not module.affine or not module.track_running_stats):
                raise ValueError(
                    f'{name}: ResCL merges batch norms with affine=True and '
                    'track_running_stats=True only')
            continue
        own = [n for n, _ in module.named_parameters(recurse=False)]
        if own:
            raise TypeError(
                f'{name or "the network"} ({type(module).__name__}) has '
                f'parameters {own}; ResCL combines networks built from '
                'Linear, Conv2d and BatchNorm layers only')
    was_training = network.training
    network.eval()
    try:
        pairs = find_bn_pairs(network, run_forward)  # norm -> layer
        shared = _shared_outputs(network, run_forward, set(pairs.values()))
    finally:
        network.train(was_training)
    # a layer whose output also feeds something else than its batch norm
    # (e.g. a stem conv feeding a pre-activation block and its shortcut)
    # is combined on its own, and the batch norm stands alone
    pairs = {norm: layer for norm, layer in pairs.items() if layer not in shared}
    norm_of = {layer: norm for norm, layer in pairs.items()}
    units = []
    for name, module in network.named_modules():
        if isinstance(module, COMBINABLE_LAYERS):
            units.append(UnitSpec(name, norm_of.get(name)))
        elif isinstance(module, _BatchNorm) and name not in pairs:
            units.append(UnitSpec(None, name))
    return units


def _shared_outputs(network: nn.Module, run_forward: Callable[[], object],
                    layers: set) -> set:
    """The ``layers`` whose output tensor has more than one consumer in the
    autograd graph of one forward pass (or is an output itself)."""
    outputs = {}
    handles = []
    for name, module in network.named_modules():
        if name in layers:
            handles.append(
                module.register_forward_hook(
                    lambda m, args, out, name=name: outputs.__setitem__(
                        name, out)))
    try:
        with torch.enable_grad():
            result = run_forward()
    finally:
        for handle in handles:
            handle.remove()
    roots = [t for t in _tensors(result) if t.grad_fn is not None]
    consumers = {}
    for root in roots:
        consumers[root.grad_fn] = consumers.get(root.grad_fn, 0) + 1
    stack, seen = [t.grad_fn for t in roots], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for child, _ in node.next_functions:
            if child is not None:
                consumers[child] = consumers.get(child, 0) + 1
                stack.append(child)
    return {
        name
        for name, out in outputs.items()
        if out.grad_fn is None or consumers.get(out.grad_fn, 0) != 1
    }


def _tensors(value) -> List[Tensor]:
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _tensors(v)]
    return []


def _set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition('.')
    setattr(root.get_submodule(parent) if parent else root, child, module)


def combine_units(network: nn.Module,
                  units: List[UnitSpec],
                  alpha_init: tuple = (-0.5, 0.5)) -> List[ResidualCombination]:
    """Replace every unit of ``network`` by a :class:`ResidualCombination`
    (in place): the layer's place holds the combination, a paired batch
    norm's place an ``nn.Identity``.

    Args:
        network (nn.Module): The network.
        units (list[UnitSpec]): From :func:`find_units`.
        alpha_init (tuple[float, float]): Initial coefficients.

    Returns:
        list[ResidualCombination]: The combinations, in ``units`` order.
    """
    combined = []
    for spec in units:
        layer = network.get_submodule(spec.layer) if spec.layer else None
        norm = network.get_submodule(spec.norm) if spec.norm else None
        unit = ResidualCombination(layer, norm, alpha_init)
        _set_submodule(network, spec.name, unit)
        if spec.kind == 'layer+norm':
            _set_submodule(network, spec.norm, nn.Identity())
        combined.append(unit)
    return combined


def combine_classifier(network: nn.Module,
                       input_shape: tuple,
                       alpha_init: tuple = (-0.5, 0.5),
                       parts: Sequence[str] = COMBINED_PARTS) -> tuple:
    """Combine the units of a classifier's ``parts`` in place (see
    :func:`find_units`, :func:`combine_units`).

    Args:
        network (nn.Module): The classifier.
        input_shape (tuple): One preprocessed input's shape, e.g.
            ``(3, 32, 32)``.
        alpha_init (tuple[float, float]): Initial coefficients.
        parts (Sequence[str]): Attributes of the classifier to combine
            (absent ones are skipped).

    Returns:
        tuple: ``[(part, UnitSpec)]`` and the :class:`ResidualCombination`
        of every unit, in network order.

    Raises:
        ValueError: A forward pass at ``input_shape`` failed.
        TypeError: Nothing to combine, or an unsupported module.
    """
    specs: List[Tuple[str, UnitSpec]] = []
    units: List[ResidualCombination] = []
    weight = next(network.parameters())
    x = torch.zeros((2, ) + input_shape,
                    dtype=weight.dtype,
                    device=weight.device)
    for part in parts:
        module = getattr(network, part, None)
        if module is None:
            continue
        inputs = x
        try:
            module.eval()  # mmpretrain's ResNet.train returns None
            with torch.no_grad():
                x = module(inputs)
        except (RuntimeError, ValueError) as error:
            raise ValueError(
                f'ResCLWrapper: a forward pass of the {part} on an input '
                f'of shape {tuple(inputs.shape)} failed ({error}); set '
                'input_shape to the shape of one preprocessed input'
            ) from error
        finally:
            module.train()
        found = find_units(module, lambda m=module, i=inputs: m(i))
        units += combine_units(module, found, alpha_init)
        specs += [(part, spec) for spec in found]
    if not units:
        raise TypeError('ResCLWrapper: the backbone and neck have no '
                        'Linear, Conv2d or BatchNorm layer to combine')
    return specs, units
