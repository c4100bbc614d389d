# Copyright (c) mmdl contributors. All rights reserved.
"""Checkpoints of parameters sharded across ranks (model parallelism).

A module whose parameter holds rows ``[start, end)`` of a ``[total, ...]``
matrix split across the ranks (e.g. the class centres of a
:class:`~mmdl.models.CombinedMarginHead` under a distributed launch)
declares it with a method ``sharded_parameters()`` returning
``[(name, start, end, total), ...]`` (``name`` relative to the module).
:class:`~mmdl.engine.MMDLRunner` then writes checkpoints that hold the
whole matrix, gathered from every rank, for the parameter and for its
optimiser state (momentum buffers of the same rows), and on loading gives
every rank its rows back. A checkpoint of a sharded run therefore loads
into an unsharded model (``tools/test.py``), into another number of ranks,
and resumes where training stopped.
"""
from typing import Dict, List, NamedTuple, Optional

import torch
import torch.distributed as dist
from torch import Tensor, nn


class Shard(NamedTuple):
    """Rows ``[start, end)`` of a ``[total, ...]`` matrix."""
    name: str
    param: nn.Parameter
    start: int
    end: int
    total: int


def find_shards(model: nn.Module) -> List[Shard]:
    """The sharded parameters that the modules of ``model`` declare (names
    relative to ``model``); none when not distributed."""
    if not (dist.is_available() and dist.is_initialized()):
        return []
    shards = []
    for prefix, module in model.named_modules():
        declare = getattr(module, 'sharded_parameters', None)
        if not callable(declare):
            continue
        for name, start, end, total in declare():
            full = f'{prefix}.{name}' if prefix else name
            shards.append(
                Shard(full, module.get_parameter(name), start, end, total))
    return shards


def gather_rows(tensor: Tensor, total: int) -> Tensor:
    """Concatenate every rank's rows (in rank order) of a matrix split
    across the ranks (shards may differ in size). A collective: every rank
    must call it."""
    rows = torch.tensor([tensor.shape[0]], device=tensor.device)
    sizes = [torch.zeros_like(rows) for _ in range(dist.get_world_size())]
    dist.all_gather(sizes, rows)
    sizes = [int(s) for s in sizes]
    longest = max(sizes)
    padded = tensor.new_zeros((longest, ) + tuple(tensor.shape[1:]))
    padded[:tensor.shape[0]] = tensor
    parts = [torch.zeros_like(padded) for _ in sizes]
    dist.all_gather(parts, padded.contiguous())
    full = torch.cat([p[:s] for p, s in zip(parts, sizes)])
    if full.shape[0] != total:
        raise RuntimeError(f'gather_rows: the shards have {full.shape[0]} '
                           f'rows in all, expected {total}')
    return full


def _param_index(optimizer: torch.optim.Optimizer) -> Dict[int, int]:
    """``id(param)`` to its index in ``optimizer.state_dict()``."""
    index, position = {}, 0
    for group in optimizer.param_groups:
        for param in group['params']:
            index.setdefault(id(param), position)
            position += 1
    return index


def _optimizers(optim_wrapper) -> Dict[Optional[str], object]:
    """Name (None for a single one) to ``torch.optim.Optimizer``."""
    from mmengine.optim import OptimWrapperDict
    if isinstance(optim_wrapper, OptimWrapperDict):
        return {k: w.optimizer for k, w in optim_wrapper.items()}
    return {None: optim_wrapper.optimizer}


def gather_checkpoint_state(model: nn.Module, optim_wrapper) -> Dict:
    """On every rank: the full matrices of the sharded parameters and of
    their optimiser state tensors with the same rows.

    Returns:
        dict: ``params`` (name to tensor, CPU) and ``optim`` (optimiser
        name to ``{index: {key: tensor}}``); empty when nothing is sharded.
    """
    shards = find_shards(model)
    if not shards:
        return {}
    params = {
        s.name: gather_rows(s.param.detach(), s.total).cpu()
        for s in shards
    }
    optim: Dict = {}
    if optim_wrapper is not None and not isinstance(optim_wrapper, dict):
        for name, optimizer in _optimizers(optim_wrapper).items():
            index = _param_index(optimizer)
            for s in shards:
                if id(s.param) not in index:
                    continue
                state = optimizer.state.get(s.param, {})
                rows = s.end - s.start
                # the same keys on every rank (an empty state is gathered
                # as nothing)
                entries = {
                    k: gather_rows(v.detach(), s.total).cpu()
                    for k, v in sorted(state.items())
                    if isinstance(v, Tensor) and v.dim() > 0
                    and v.shape[0] == rows
                }
                if entries:
                    optim.setdefault(name, {})[index[id(s.param)]] = entries
    return dict(params=params, optim=optim)


def put_full_state(checkpoint: Dict, gathered: Dict) -> None:
    """Replace the sharded entries of a checkpoint dict (``state_dict`` and
    ``optimizer``) with the gathered full matrices."""
    if not gathered:
        return
    state = checkpoint.get('state_dict', {})
    for name, value in gathered['params'].items():
        if name in state:
            state[name] = value
    optimizer = checkpoint.get('optimizer')
    for name, entries in gathered['optim'].items():
        target = optimizer if name is None else (optimizer or {}).get(name)
        if not isinstance(target, dict) or 'state' not in target:
            continue
        for index, values in entries.items():
            target['state'].setdefault(index, {}).update(values)


def full_shapes(model: nn.Module) -> Dict[str, tuple]:
    """Name to the full shape of every sharded parameter of ``model``."""
    return {
        s.name: (s.total, ) + tuple(s.param.shape[1:])
        for s in find_shards(model)
    }


def slice_optimizer_state(checkpoint: Dict, model: nn.Module,
                          optim_wrapper) -> None:
    """Give this rank its rows of the full optimiser state of the sharded
    parameters, in place (before the optimiser loads it)."""
    shards = find_shards(model)
    optimizer_state = checkpoint.get('optimizer')
    if not shards or not isinstance(optimizer_state, dict):
        return
    for name, optimizer in _optimizers(optim_wrapper).items():
        target = optimizer_state if name is None else optimizer_state.get(
            name)
        if not isinstance(target, dict) or 'state' not in target:
            continue
        index = _param_index(optimizer)
        for s in shards:
            entry = target['state'].get(index.get(id(s.param)))
            if not entry:
                continue
            for key, value in list(entry.items()):
                if isinstance(value, Tensor) and value.dim() > 0 and \
                        value.shape[0] == s.total:
                    entry[key] = value[s.start:s.end].clone()
