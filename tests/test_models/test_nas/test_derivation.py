# Copyright (c) mmdl contributors. All rights reserved.
"""The DARTS derivation rule against a brute-force reading of it, the
published cells recovered from matching parameters, and the skip cap."""
import itertools

import numpy as np
import pytest
import torch

from mmdl.models.nas import (DARTS_V1, DARTS_V2, PRIMITIVES, derive_genotype,
                             edge_endpoints, edge_index, genotype_choices,
                             num_edges)


def _reference_cell(alphas):
    """The rule written out: per node, the two inputs whose best non-none
    softmax weight is largest (ties: the lower input), each with that
    operation (ties: the first)."""
    weights = np.exp(alphas) / np.exp(alphas).sum(1, keepdims=True)
    pairs, start = [], 0
    for node in range(4):
        rows = weights[start:start + node + 2]
        best = [max(r[1:]) for r in rows]
        chosen = sorted(range(node + 2), key=lambda s: (-best[s], s))[:2]
        for source in chosen:
            pairs.append(
                (PRIMITIVES[1 + int(np.argmax(rows[source][1:]))], source))
        start += node + 2
    return pairs


def test_edges_of_a_cell():
    assert num_edges(4) == 14
    assert edge_endpoints(4)[:5] == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]
    assert [edge_index(3, s) for s in range(5)] == list(range(9, 14))
    with pytest.raises(ValueError, match='node 1 has inputs 0..2'):
        edge_index(1, 3)


@pytest.mark.parametrize('seed', range(5))
def test_derivation_matches_the_rule(seed):
    gen = torch.Generator().manual_seed(seed)
    normal = torch.randn(14, 8, generator=gen, dtype=torch.float64)
    reduce = torch.randn(14, 8, generator=gen, dtype=torch.float64)
    genotype = derive_genotype(normal, reduce)
    assert genotype.normal == _reference_cell(normal.numpy())
    assert genotype.reduce == _reference_cell(reduce.numpy())
    assert genotype.normal_concat == genotype.reduce_concat == [2, 3, 4, 5]


def test_none_never_chosen_and_ties():
    alphas = torch.zeros(14, 8)
    alphas[:, 0] = 10.0  # none dominates every edge
    genotype = derive_genotype(alphas, alphas)
    # all other operations tie: the first non-none one, the first inputs
    assert genotype.normal[:2] == [('max_pool_3x3', 0), ('max_pool_3x3', 1)]
    assert all(op != 'none' for op, _ in genotype.normal + genotype.reduce)


def _alphas_of(pairs):
    """Logits whose derivation is ``pairs``: the chosen (edge, op) get a
    large value, larger for the first pair of a node."""
    alphas = torch.zeros(14, 8)
    for index, (op, source) in enumerate(pairs):
        alphas[edge_index(index // 2, source),
               PRIMITIVES.index(op)] = 6.0 if index % 2 == 0 else 5.0
    return alphas


@pytest.mark.parametrize('genotype', [DARTS_V1, DARTS_V2])
def test_published_cells_are_recovered(genotype):
    derived = derive_genotype(
        _alphas_of(genotype.normal), _alphas_of(genotype.reduce))
    assert derived == genotype


def test_skip_connect_cap():
    """Four skip connections of decreasing strength in the normal cell; with
    a cap of 2 the two weakest lose skip_connect and their nodes take the
    next-best choices."""
    strong = {
        (0, 0): ('skip_connect', 9.0),
        (0, 1): ('sep_conv_3x3', 5.0),
        (1, 1): ('skip_connect', 8.0),
        (1, 0): ('sep_conv_3x3', 5.0),
        (2, 2): ('skip_connect', 8.0),
        (2, 0): ('dil_conv_3x3', 5.0),
        (3, 3): ('skip_connect', 7.5),
        (3, 1): ('sep_conv_5x5', 5.0),
    }
    alphas = torch.zeros(14, 8)
    alphas[:, 0] = 10.0  # other edges: none dominates
    for (node, source), (op, value) in strong.items():
        edge = edge_index(node, source)
        alphas[edge, 0] = 0.0
        alphas[edge, PRIMITIVES.index(op)] = value
    # the second choices on the two weakest skip edges
    alphas[edge_index(2, 2), PRIMITIVES.index('avg_pool_3x3')] = 4.0
    alphas[edge_index(3, 3), PRIMITIVES.index('dil_conv_5x5')] = 4.0
    uncapped = derive_genotype(alphas, alphas)
    assert uncapped.normal == [('skip_connect', 0), ('sep_conv_3x3', 1),
                               ('skip_connect', 1), ('sep_conv_3x3', 0),
                               ('skip_connect', 2), ('dil_conv_3x3', 0),
                               ('skip_connect', 3), ('sep_conv_5x5', 1)]
    capped = derive_genotype(alphas, alphas, max_skip_connect=2)
    assert capped.normal == uncapped.normal[:4] + [('dil_conv_3x3', 0),
                                                   ('avg_pool_3x3', 2),
                                                   ('sep_conv_5x5', 1),
                                                   ('dil_conv_5x5', 3)]
    assert capped.reduce == uncapped.reduce  # the cap is on normal cells
    assert derive_genotype(alphas, alphas, max_skip_connect=4) == uncapped


def test_genotype_choices():
    choices = genotype_choices(DARTS_V2.normal, 4)
    assert len(choices) == 14
    expected = [None] * 14
    for index, (op, source) in enumerate(DARTS_V2.normal):
        expected[edge_index(index // 2, source)] = PRIMITIVES.index(op)
    assert choices == expected
    assert sum(c is not None for c in choices) == 8
    with pytest.raises(ValueError, match='takes input 0 twice'):
        genotype_choices([('skip_connect', 0),
                          ('sep_conv_3x3', 0)] + [('skip_connect', 0)] * 6, 4)


def test_bad_shapes():
    with pytest.raises(ValueError, match='shape'):
        derive_genotype(torch.zeros(14, 7), torch.zeros(14, 7))
    with pytest.raises(ValueError, match='do not form cells'):
        derive_genotype(torch.zeros(13, 8), torch.zeros(13, 8))
    # other node counts work: 2 nodes, 5 edges
    genotype = derive_genotype(torch.randn(5, 8), torch.randn(5, 8))
    assert len(genotype.normal) == 4
    assert list(itertools.chain(genotype.normal_concat)) == [2, 3]
