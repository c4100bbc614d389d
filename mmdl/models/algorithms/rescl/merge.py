# Copyright (c) mmdl contributors. All rights reserved.
"""Exact merge of a residual combination into one network of the original
architecture (ResCL).

With running statistics, each branch of a unit is a per-channel affine map
of its input:

* ``layer+norm``: fold the batch norm into the layer,
  ``W' = k W``, ``b' = beta + k (b - mu)`` with ``k = gamma / sqrt(var +
  eps)``; the merged layer is ``W_c = (1 + a_s) W'_s + a_t W'_t`` (per
  output channel) and ``b_c`` alike. ``W_c`` goes into the layer, ``b_c``
  into the batch norm's ``beta``, whose statistics become the identity
  (mean 0, variance ``1 - eps``, ``gamma`` 1), so the parameter count and
  module names stay those of the original network;
* ``layer``: ``W_c`` and ``b_c`` directly;
* ``norm`` (standalone, e.g. pre-activation): scale
  ``(1 + a_s) k_s + a_t k_t`` and shift ``(1 + a_s)(beta_s - k_s mu_s) +
  a_t (beta_t - k_t mu_t)``, held by the batch norm with identity
  statistics.

The merge is computed in float64 and written in the parameters' dtype.
"""
import copy
from typing import Dict, List, Sequence, Tuple

import torch
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from .combination import AffineBranch, ResidualCombination, UnitSpec


def _norm_affine(norm: _BatchNorm) -> Tuple[Tensor, Tensor]:
    """``(k, shift)`` of an eval-mode batch norm: ``y = k x + shift``."""
    k = norm.weight.double() / (norm.running_var.double() + norm.eps).sqrt()
    return k, norm.bias.double() - k * norm.running_mean.double()


def _branch_affine(branch: AffineBranch) -> Tuple[Tensor, Tensor]:
    """``(weight, bias)`` of a branch with a layer, norm folded in."""
    layer = branch.layer
    weight = layer.weight.double()
    bias = (layer.bias.double() if layer.bias is not None else
            weight.new_zeros(weight.shape[0]))
    if branch.norm is not None:
        k, shift = _norm_affine(branch.norm)
        weight = weight * k.view((-1, ) + (1, ) * (weight.dim() - 1))
        bias = k * bias + shift
    return weight, bias


@torch.no_grad()
def merged_parameters(unit: ResidualCombination) -> Dict[str, Tensor]:
    """The merged unit, float64.

    Returns:
        dict: ``weight`` and ``bias`` of the merged layer (units with a
        layer), or ``scale`` and ``shift`` of the merged batch norm
        (standalone batch norms).
    """
    a = 1 + unit.alpha_source.double()
    c = unit.alpha_target.double()
    if unit.source.layer is None:
        k_s, shift_s = _norm_affine(unit.source.norm)
        k_t, shift_t = _norm_affine(unit.target.norm)
        return dict(scale=a * k_s + c * k_t, shift=a * shift_s + c * shift_t)
    w_s, b_s = _branch_affine(unit.source)
    w_t, b_t = _branch_affine(unit.target)
    shape = (-1, ) + (1, ) * (w_s.dim() - 1)
    return dict(
        weight=a.view(shape) * w_s + c.view(shape) * w_t,
        bias=a * b_s + c * b_t)


def _identity_norm(norm: _BatchNorm, scale: Tensor, shift: Tensor) -> None:
    norm.running_mean.zero_()
    norm.running_var.fill_(1.0 - norm.eps)
    norm.weight.copy_(scale)
    norm.bias.copy_(shift)


@torch.no_grad()
def write_merged(branch: AffineBranch, merged: Dict[str, Tensor]) -> None:
    """Write :func:`merged_parameters` into a branch, in place.

    Raises:
        ValueError: A merged bias is non-zero for a layer without bias and
            batch norm.
    """
    if 'scale' in merged:
        _identity_norm(branch.norm, merged['scale'], merged['shift'])
        return
    layer, norm = branch.layer, branch.norm
    layer.weight.copy_(merged['weight'])
    if norm is not None:
        if layer.bias is not None:
            layer.bias.zero_()
        _identity_norm(norm, torch.ones_like(merged['bias']), merged['bias'])
    elif layer.bias is not None:
        layer.bias.copy_(merged['bias'])
    elif merged['bias'].abs().max() > 0:
        raise ValueError('the merged layer needs a bias it does not have')


def plain_state_dict(state: Dict[str, Tensor], units: List[UnitSpec],
                     combinations: List[ResidualCombination], prefix: str,
                     mode: str) -> Dict[str, Tensor]:
    """The state dict of the plain network from that of the combined one.

    Args:
        state (dict): State dict holding the combined network under
            ``prefix`` (other keys are kept as they are).
        units (list[UnitSpec]): The units, with their original names.
        combinations (list[ResidualCombination]): The units' modules.
        prefix (str): Key prefix of the network in ``state`` (e.g.
            ``'backbone.'``).
        mode (str): ``'source'`` or ``'target'`` (that branch as it is) or
            ``'combined'`` (the exact merge).

    Returns:
        dict: Keys and shapes of the original network.
    """
    state = dict(state)
    for spec, unit in zip(units, combinations):
        base = prefix + spec.name + '.'
        for key in [k for k in state if k.startswith(base)]:
            del state[key]
        if mode == 'combined':
            branch = copy.deepcopy(unit.source)
            write_merged(branch, merged_parameters(unit))
        else:
            branch = getattr(unit, mode)
        for part, name in (('layer', spec.layer), ('norm', spec.norm)):
            module = getattr(branch, part)
            if module is None:
                continue
            for key, value in module.state_dict().items():
                state[f'{prefix}{name}.{key}'] = value.detach().clone()
    return state


def classifier_plain_state_dict(state: Dict[str, Tensor],
                                specs: Sequence[Tuple[str, UnitSpec]],
                                units: Sequence[ResidualCombination],
                                mode: str) -> Dict[str, Tensor]:
    """:func:`plain_state_dict` for every combined part of a classifier.

    Args:
        state (dict): The combined classifier's state dict.
        specs (Sequence[tuple[str, UnitSpec]]): ``(part, spec)`` per unit.
        units (Sequence[ResidualCombination]): The units' modules.
        mode (str): ``'source'``, ``'target'`` or ``'combined'``.

    Returns:
        dict: The unwrapped classifier's state dict.
    """
    for part in dict.fromkeys(p for p, _ in specs):
        pairs = [(s, u) for (p, s), u in zip(specs, units) if p == part]
        state = plain_state_dict(state, [s for s, _ in pairs],
                                 [u for _, u in pairs], f'{part}.', mode)
    return state


def wrapped_state_dict(plain: Dict[str, Tensor],
                       specs: Sequence[Tuple[str, UnitSpec]],
                       branch: str = 'source') -> Dict[str, Tensor]:
    """The inverse of :func:`classifier_plain_state_dict`: the unwrapped
    classifier's keys of every unit moved to ``branch``'s (``'source'`` or
    ``'target'``); other keys are kept."""
    renamed = {}
    for part, spec in specs:
        for role, name in (('layer', spec.layer), ('norm', spec.norm)):
            if name is not None:
                renamed[f'{part}.{name}.'] = (
                    f'{part}.{spec.name}.{branch}.{role}.')
    out = {}
    for key, value in plain.items():
        for old, new in renamed.items():
            if key.startswith(old):
                key = new + key[len(old):]
                break
        out[key] = value
    return out
