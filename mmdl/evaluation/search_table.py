# Copyright (c) mmdl contributors. All rights reserved.
"""Tables of architecture-search runs: mean ± std over runs that share a
name (seeds) of the search time, the one-shot and the derived accuracy,
the accuracy of the derived network trained from scratch, and the size of
the genotype's evaluation network.

A run folder holds what ``tools/misc/run_edas_digits.sh`` writes:
``genotype.json`` (from :class:`~mmdl.engine.GenotypeHook`),
``search_seconds`` (wall time of the search), ``one_shot.json`` and
``derived.json`` (``tools/test.py --out-item metrics`` with
``eval_network`` one-shot and derived) and, after retraining,
``retrain.json``. Missing files leave their cells empty.
"""
import json
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence

from mmdl.models.nas import load_genotype

#: The metric read from the test JSON files.
METRIC = 'accuracy/top1'
COLUMNS = ('search (s)', 'one-shot', 'derived', 'gap', 'retrained',
           'params (M)', 'skip (normal)')


def _metric(path: str) -> Optional[float]:
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return float(json.load(f)[METRIC])


def evaluation_params(genotype, num_classes: int = 10) -> float:
    """Parameters (millions) of the DARTS CIFAR evaluation network of a
    genotype (20 cells, 36 channels, linear classifier; auxiliary head
    excluded), the size DARTS reports."""
    from mmdl.models.backbones import DARTSBackbone
    backbone = DARTSBackbone(genotype, num_layers=20, base_channels=36)
    count = sum(p.numel() for p in backbone.parameters())
    count += backbone.out_channels * num_classes + num_classes
    return count / 1e6


def read_search_run(work_dir: str) -> Dict[str, Optional[float]]:
    """The values of one run folder (None where a file is missing)."""
    values: Dict[str, Optional[float]] = dict.fromkeys(COLUMNS)
    seconds = osp.join(work_dir, 'search_seconds')
    if osp.isfile(seconds):
        with open(seconds) as f:
            values['search (s)'] = float(f.read().strip())
    values['one-shot'] = _metric(osp.join(work_dir, 'one_shot.json'))
    values['derived'] = _metric(osp.join(work_dir, 'derived.json'))
    if values['one-shot'] is not None and values['derived'] is not None:
        values['gap'] = values['one-shot'] - values['derived']
    values['retrained'] = _metric(osp.join(work_dir, 'retrain.json'))
    genotype_file = osp.join(work_dir, 'genotype.json')
    if osp.isfile(genotype_file):
        genotype = load_genotype(genotype_file)
        values['params (M)'] = evaluation_params(genotype)
        values['skip (normal)'] = float(
            sum(op == 'skip_connect' for op, _ in genotype.normal))
    return values


def mean_std(values: Sequence[Optional[float]], digits: int = 2) -> str:
    """``mean ± std`` (sample std) of the known values, ``-`` for none;
    one value is written alone."""
    known = [v for v in values if v is not None]
    if not known:
        return '-'
    if len(known) == 1:
        return f'{known[0]:.{digits}f}'
    return (f'{statistics.mean(known):.{digits}f} ± '
            f'{statistics.stdev(known):.{digits}f}')


def search_table(runs: Sequence[str]) -> str:
    """A markdown table, one row per name.

    Args:
        runs (Sequence[str]): ``NAME=WORK_DIR`` items; runs with the same
            name (e.g. seeds) are averaged.

    Returns:
        str: The table.
    """
    groups: Dict[str, List[dict]] = {}
    for item in runs:
        name, sep, work_dir = item.partition('=')
        if not sep:
            raise ValueError(f'expected NAME=WORK_DIR, got {item!r}')
        groups.setdefault(name, []).append(read_search_run(work_dir))
    digits = {'search (s)': 0, 'params (M)': 3, 'skip (normal)': 1}
    lines = [
        '| run | runs | ' + ' | '.join(COLUMNS) + ' |',
        '|---|---|' + '---|' * len(COLUMNS)
    ]
    for name, rows in groups.items():
        cells = [
            mean_std([row[c] for row in rows], digits.get(c, 2))
            for c in COLUMNS
        ]
        lines.append(f'| {name} | {len(rows)} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)
