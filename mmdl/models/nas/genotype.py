# Copyright (c) mmdl contributors. All rights reserved.
"""DARTS genotypes: the format, the published cells and JSON files.

A genotype describes a normal and a reduction cell the way the DARTS
reference code does (``Genotype`` namedtuple of ``genotypes.py``): for each
intermediate node, in order, two ``(operation, input)`` pairs, where input
0 and 1 are the cell's inputs (the outputs of cells ``k - 2`` and
``k - 1``) and ``2, 3, ...`` the earlier intermediate nodes; the cell's
output concatenates the nodes listed in ``*_concat``.

The JSON file is the namedtuple written as an object::

    {"normal": [["sep_conv_3x3", 0], ["sep_conv_3x3", 1], ...],
     "normal_concat": [2, 3, 4, 5],
     "reduce": [["max_pool_3x3", 0], ["max_pool_3x3", 1], ...],
     "reduce_concat": [2, 3, 4, 5]}
"""
import json
import os.path as osp
from collections import namedtuple
from typing import Any, Dict, List, Sequence, Tuple, Union

from .operations import PRIMITIVES

#: The DARTS reference code's genotype type (same fields, same order).
Genotype = namedtuple('Genotype', 'normal normal_concat reduce reduce_concat')

#: DARTS with first-order search (the reference code's ``DARTS_V1``).
DARTS_V1 = Genotype(
    normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0),
            ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1),
            ('sep_conv_3x3', 0), ('skip_connect', 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2),
            ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2),
            ('skip_connect', 2), ('avg_pool_3x3', 0)],
    reduce_concat=[2, 3, 4, 5])

#: DARTS with second-order search (``DARTS_V2``, the reference code's
#: ``DARTS``).
DARTS_V2 = Genotype(
    normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0),
            ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0),
            ('skip_connect', 0), ('dil_conv_3x3', 2)],
    normal_concat=[2, 3, 4, 5],
    reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2),
            ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2),
            ('skip_connect', 2), ('max_pool_3x3', 1)],
    reduce_concat=[2, 3, 4, 5])

#: Published genotypes that configs may name instead of a file.
GENOTYPES: Dict[str, Genotype] = dict(
    DARTS_V1=DARTS_V1, DARTS_V2=DARTS_V2, DARTS=DARTS_V2)

GenotypeLike = Union[Genotype, dict, str]
CELL_TYPES = ('normal', 'reduce')


def genotype_to_dict(genotype: Genotype) -> Dict[str, list]:
    """The JSON-ready form: lists of ``[operation, input]`` pairs."""
    return dict(
        normal=[[op, int(j)] for op, j in genotype.normal],
        normal_concat=[int(i) for i in genotype.normal_concat],
        reduce=[[op, int(j)] for op, j in genotype.reduce],
        reduce_concat=[int(i) for i in genotype.reduce_concat])


def _check_cell(pairs: Any, concat: Any, field: str,
                source: str) -> Tuple[List[Tuple[str, int]], List[int]]:
    where = f'{source}: field {field!r}'
    if not isinstance(pairs, (list, tuple)) or not pairs or len(pairs) % 2:
        raise ValueError(f'{where} must be a non-empty list of an even '
                         'number of [operation, input] pairs (two per '
                         f'node), got {pairs!r}')
    cell = []
    for index, pair in enumerate(pairs):
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not isinstance(pair[0], str) or isinstance(pair[1], bool)
                or not isinstance(pair[1], int)):
            raise ValueError(f'{where}[{index}] must be an [operation, '
                             f'input] pair, got {pair!r}')
        op, j = pair
        node = index // 2 + 2
        if op not in PRIMITIVES or op == 'none':
            raise ValueError(
                f'{where}[{index}]: unknown operation {op!r}; expected one '
                f'of {PRIMITIVES[1:]}')
        if not 0 <= j < node:
            raise ValueError(f'{where}[{index}]: node {node} takes inputs '
                             f'0..{node - 1}, got {j}')
        cell.append((op, j))
    num_nodes = len(cell) // 2
    concat_field = f'{source}: field {field + "_concat"!r}'
    if (not isinstance(concat, (list, tuple)) or not concat or any(
            isinstance(i, bool) or not isinstance(i, int)
            or not 2 <= i < num_nodes + 2 for i in concat)):
        raise ValueError(f'{concat_field} must list nodes among '
                         f'2..{num_nodes + 1}, got {concat!r}')
    return cell, [int(i) for i in concat]


def genotype_from_dict(data: Any, source: str = 'genotype') -> Genotype:
    """A checked :data:`Genotype` from its JSON form (or a namedtuple).

    Args:
        data (dict | Genotype): ``normal``, ``normal_concat``, ``reduce``,
            ``reduce_concat``.
        source (str): What to name in errors (a file name). Defaults to
            ``'genotype'``.

    Returns:
        Genotype: The genotype, with tuples of ``(str, int)``.

    Raises:
        ValueError: A field is missing or malformed; the message names
            ``source``, the field and what was expected.
    """
    if isinstance(data, Genotype):
        data = data._asdict()
    if not isinstance(data, dict):
        raise ValueError(f'{source}: expected an object with fields '
                         f'{list(Genotype._fields)}, got '
                         f'{type(data).__name__}')
    missing = [k for k in Genotype._fields if k not in data]
    extra = sorted(set(data) - set(Genotype._fields))
    if missing or extra:
        raise ValueError(f'{source}: expected the fields '
                         f'{list(Genotype._fields)}; missing {missing}, '
                         f'unknown {extra}')
    normal, normal_concat = _check_cell(data['normal'], data['normal_concat'],
                                        'normal', source)
    reduce, reduce_concat = _check_cell(data['reduce'], data['reduce_concat'],
                                        'reduce', source)
    if len(normal) != len(reduce):
        raise ValueError(f'{source}: the normal and reduction cells need '
                         f'the same number of nodes, got {len(normal) // 2} '
                         f'and {len(reduce) // 2}')
    return Genotype(normal, normal_concat, reduce, reduce_concat)


def load_genotype(genotype: GenotypeLike) -> Genotype:
    """A genotype from a namedtuple, its dict, a published name (a key of
    :data:`GENOTYPES`, e.g. ``'DARTS_V2'``) or the path of a JSON file.

    Raises:
        FileNotFoundError: ``genotype`` is neither a published name nor an
            existing file.
        ValueError: The file is not valid JSON or not a genotype.
    """
    if isinstance(genotype, str):
        if genotype in GENOTYPES:
            return GENOTYPES[genotype]
        if not osp.isfile(genotype):
            raise FileNotFoundError(
                f'genotype {genotype!r} is neither a published genotype '
                f'({", ".join(GENOTYPES)}) nor an existing JSON file')
        with open(genotype, encoding='utf-8') as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as error:
                raise ValueError(f'{genotype}: not valid JSON ({error})')
        return genotype_from_dict(data, source=genotype)
    return genotype_from_dict(genotype)


def dump_genotype(genotype: Genotype, path: str) -> None:
    """Write ``genotype`` to ``path`` as JSON (creating the folder)."""
    import os
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(genotype_to_dict(genotype), f, indent=2)
        f.write('\n')


def format_genotype(genotype: Genotype) -> str:
    """One line per cell type, e.g. for logs: ``normal: node 2 <-
    sep_conv_3x3(0) + sep_conv_3x3(1); node 3 <- ...``."""
    lines = []
    for cell in CELL_TYPES:
        pairs: Sequence[Tuple[str, int]] = getattr(genotype, cell)
        nodes = [
            f'node {i // 2 + 2} <- {pairs[i][0]}({pairs[i][1]}) + '
            f'{pairs[i + 1][0]}({pairs[i + 1][1]})'
            for i in range(0, len(pairs), 2)
        ]
        concat = getattr(genotype, f'{cell}_concat')
        lines.append(f'{cell}: ' + '; '.join(nodes) + f'; concat {concat}')
    return '\n'.join(lines)
