# Copyright (c) mmdl contributors. All rights reserved.
"""The cell of the DARTS search network, computing only what a plan asks.

Layout as in the DARTS reference code (``model_search.py``): two inputs
(cells ``k - 2`` and ``k - 1``) preprocessed by ReLU-Conv1x1-BN (the first
by :class:`~mmdl.models.nas.FactorizedReduce` after a reduction cell),
``num_nodes`` intermediate nodes, each the sum of its incoming edges, and
the concatenation of the nodes as output. Edges leaving the cell inputs of
a reduction cell have stride 2. Every batch norm is ``affine=False`` and
pooling is followed by a batch norm, as in the reference ``MixedOp``.
"""
import math
from typing import List, Optional, Sequence

import torch
from torch import Tensor, nn

from .derivation import edge_endpoints
from .operations import PRIMITIVES, FactorizedReduce, ReLUConvBN, \
    build_operation
from .plan import Choice


def build_search_operation(name: str, channels: int, stride: int) -> nn.Module:
    """A search-network operation: batch norms without affine parameters,
    pooling followed by a batch norm."""
    op = build_operation(name, channels, stride, affine=False)
    if 'pool' in name:
        op = nn.Sequential(op, nn.BatchNorm2d(channels, affine=False))
    return op


class SearchEdge(nn.Module):
    """The candidate operations of one edge.

    Args:
        channels (int): Channels.
        stride (int): 1, or 2 on the input edges of a reduction cell.
        op_names (Sequence[str]): The operations to build (all of
            :data:`PRIMITIVES` in a search network; the genotype's one in
            a discrete network). Defaults to all.
    """

    def __init__(self,
                 channels: int,
                 stride: int,
                 op_names: Sequence[str] = PRIMITIVES) -> None:
        super().__init__()
        self.ops = nn.ModuleDict({
            name:
            build_search_operation(name, channels, stride)
            for name in op_names
        })

    def forward(self, x: Tensor, choice: Choice) -> Tensor:
        """The clamped operation, or the weighted sum of all operations.

        Args:
            x (Tensor): The input state.
            choice (int | Tensor): An operation index, or weights over
                :data:`PRIMITIVES`.

        Returns:
            Tensor: The edge's output.
        """
        if isinstance(choice, int):
            name = PRIMITIVES[choice]
            if name not in self.ops:
                raise KeyError(f'this edge was built with {list(self.ops)} '
                               f'and cannot run {name!r}')
            return self.ops[name](x)
        out = None
        for k, name in enumerate(PRIMITIVES):
            if name == 'none':  # contributes exactly zero
                continue
            term = choice[k] * self.ops[name](x)
            out = term if out is None else out + term
        return out


class SearchCell(nn.Module):
    """A normal or reduction cell of the search network.

    Args:
        num_nodes (int): Intermediate nodes.
        prev_prev_channels (int): Channels of the output of cell ``k - 2``.
        prev_channels (int): Channels of the output of cell ``k - 1``.
        channels (int): Channels of every node.
        reduction (bool): A reduction cell (stride 2 on the input edges).
        reduction_prev (bool): Cell ``k - 1`` was a reduction cell.
        op_names (list[list[str]], optional): Per edge, the operations to
            build; None for all of :data:`PRIMITIVES` on every edge.
    """

    def __init__(self,
                 num_nodes: int,
                 prev_prev_channels: int,
                 prev_channels: int,
                 channels: int,
                 reduction: bool,
                 reduction_prev: bool,
                 op_names: Optional[List[List[str]]] = None) -> None:
        super().__init__()
        self.num_nodes = num_nodes
        self.reduction = reduction
        self.channels = channels
        self.preprocess0 = (
            FactorizedReduce(prev_prev_channels, channels, affine=False)
            if reduction_prev else ReLUConvBN(
                prev_prev_channels, channels, 1, 1, 0, affine=False))
        self.preprocess1 = ReLUConvBN(
            prev_channels, channels, 1, 1, 0, affine=False)
        self.endpoints = edge_endpoints(num_nodes)
        self.edges = nn.ModuleList([
            SearchEdge(channels, 2 if reduction and source < 2 else 1,
                       PRIMITIVES if op_names is None else op_names[e])
            for e, (_, source) in enumerate(self.endpoints)
        ])

    @property
    def out_channels(self) -> int:
        """Channels of the output (all nodes concatenated)."""
        return self.num_nodes * self.channels

    def forward(self, s0: Tensor, s1: Tensor,
                choices: Sequence[Choice]) -> Tensor:
        """Compute the cell with one choice per edge.

        Args:
            s0 (Tensor): Output of cell ``k - 2``.
            s1 (Tensor): Output of cell ``k - 1``.
            choices (Sequence[Choice]): One per edge (see
                :class:`~mmdl.models.nas.ArchitecturePlan`).

        Returns:
            Tensor: The concatenated nodes.
        """
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        e = 0
        for node in range(self.num_nodes):
            total = None
            for source in range(node + 2):
                choice = choices[e]
                if choice is not None:
                    out = self.edges[e](states[source], choice)
                    total = out if total is None else total + out
                e += 1
            if total is None:  # every incoming edge absent
                ref = states[1]
                side = ((math.ceil(ref.shape[2] / 2),
                         math.ceil(ref.shape[3] / 2))
                        if self.reduction else tuple(ref.shape[2:]))
                total = ref.new_zeros(ref.shape[0], self.channels, *side)
            states.append(total)
        return torch.cat(states[2:], dim=1)
