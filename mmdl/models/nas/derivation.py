# Copyright (c) mmdl contributors. All rights reserved.
"""From architecture parameters to a genotype: the DARTS derivation rule.

For every intermediate node the incoming edges are ranked by their largest
softmax weight among the operations other than ``none``; the two strongest
are kept, each with its best operation other than ``none``
(``Network.genotype`` of the DARTS reference code, with the same
tie-breaking: a stable sort of the edges and the first maximum).

Edges are numbered as in DARTS: node ``i`` (0-based) has the ``2 + i``
incoming edges ``offset(i) ... offset(i) + 1 + i`` from the cell inputs 0,
1 and the earlier nodes, with ``offset(i) = i (i + 3) / 2``; 4 nodes give 14
edges.
"""
from typing import List, Optional, Sequence, Set, Tuple

import torch
from torch import Tensor

from .genotype import Genotype
from .operations import PRIMITIVES

NONE = PRIMITIVES.index('none')
SKIP = PRIMITIVES.index('skip_connect')


def num_edges(num_nodes: int) -> int:
    """Edges of a cell with ``num_nodes`` intermediate nodes (14 for 4)."""
    return num_nodes * (num_nodes + 3) // 2


def edge_index(node: int, source: int) -> int:
    """The edge from ``source`` (0, 1: cell inputs; 2...: nodes) into
    intermediate node ``node`` (0-based)."""
    if not 0 <= source < node + 2:
        raise ValueError(f'node {node} has inputs 0..{node + 1}, got {source}')
    return node * (node + 3) // 2 + source


def edge_endpoints(num_nodes: int) -> List[Tuple[int, int]]:
    """``(node, source)`` of every edge, in edge order."""
    return [(node, source) for node in range(num_nodes)
            for source in range(node + 2)]


def derive_cell(
        weights: Sequence[Sequence[float]],
        num_nodes: int,
        excluded: Optional[Set[Tuple[int,
                                     int]]] = None) -> List[Tuple[str, int]]:
    """One cell's genotype pairs from its edge weights.

    Args:
        weights (Sequence): ``[num_edges][len(PRIMITIVES)]`` softmax
            weights.
        num_nodes (int): Intermediate nodes.
        excluded (set[tuple[int, int]], optional): ``(edge, op)`` choices
            that may not be taken (the skip-connection cap).

    Returns:
        list[tuple[str, int]]: Two ``(operation, input)`` pairs per node,
        the stronger edge first.
    """
    excluded = excluded or set()
    pairs = []
    for node in range(num_nodes):

        def best(source: int) -> Tuple[float, int]:
            row = weights[edge_index(node, source)]
            op, value = None, None
            for k, w in enumerate(row):
                if k == NONE or (edge_index(node, source), k) in excluded:
                    continue
                if value is None or w > value:
                    op, value = k, w
            return (float('-inf') if value is None else value), op

        sources = sorted(range(node + 2), key=lambda s: -best(s)[0])[:2]
        for source in sources:
            pairs.append((PRIMITIVES[best(source)[1]], source))
    return pairs


def derive_genotype(alphas_normal: Tensor,
                    alphas_reduce: Tensor,
                    max_skip_connect: Optional[int] = None) -> Genotype:
    """The genotype of architecture parameters (the DARTS rule).

    Args:
        alphas_normal (Tensor): ``[num_edges, len(PRIMITIVES)]`` logits of
            the normal cell.
        alphas_reduce (Tensor): The same for the reduction cell.
        max_skip_connect (int, optional): P-DARTS' cap on the normal cell:
            while it has more skip connections, the weakest one's
            ``skip_connect`` is excluded and the cell derived again. None
            for no cap.

    Returns:
        Genotype: The genotype, concatenating all intermediate nodes.
    """
    cells = []
    for alphas in (alphas_normal, alphas_reduce):
        if alphas.dim() != 2 or alphas.shape[1] != len(PRIMITIVES):
            raise ValueError('architecture parameters must have shape '
                             f'[num_edges, {len(PRIMITIVES)}], got '
                             f'{tuple(alphas.shape)}')
        cells.append(torch.softmax(alphas.detach().float(), -1).tolist())
    num_nodes = 1
    while num_edges(num_nodes) < len(cells[0]):
        num_nodes += 1
    if num_edges(num_nodes) != len(cells[0]) or len(cells[1]) != len(cells[0]):
        raise ValueError('architecture parameters with '
                         f'{len(cells[0])} and {len(cells[1])} edges do not '
                         'form cells of 2 + 3 + ... edges')
    normal = derive_cell(cells[0], num_nodes)
    if max_skip_connect is not None:
        excluded: Set[Tuple[int, int]] = set()
        while sum(op == 'skip_connect' for op, _ in normal) > max_skip_connect:
            skips = [(cells[0][edge_index(i // 2,
                                          j)][SKIP], edge_index(i // 2, j))
                     for i, (op, j) in enumerate(normal)
                     if op == 'skip_connect']
            excluded.add((min(skips)[1], SKIP))
            normal = derive_cell(cells[0], num_nodes, excluded)
    reduce = derive_cell(cells[1], num_nodes)
    concat = list(range(2, num_nodes + 2))
    return Genotype(normal, concat, reduce, list(concat))


def genotype_choices(pairs: Sequence[Tuple[str, int]],
                     num_nodes: int) -> List[Optional[int]]:
    """A cell's genotype as one entry per edge: the index in
    :data:`PRIMITIVES` of the edge's operation, None for an absent edge.

    Raises:
        ValueError: Two pairs of one node name the same input.
    """
    choices: List[Optional[int]] = [None] * num_edges(num_nodes)
    for index, (op, source) in enumerate(pairs):
        edge = edge_index(index // 2, source)
        if choices[edge] is not None:
            raise ValueError(f'node {index // 2 + 2} takes input {source} '
                             'twice; a DARTS cell has one operation per '
                             'edge')
        choices[edge] = PRIMITIVES.index(op)
    return choices
