# Copyright (c) mmdl contributors. All rights reserved.
"""Cell diagrams: every operation of the genotype appears on its edge, the
nodes and the output are drawn, and the PNG is written."""
from collections import Counter

from mmdl.models.nas import DARTS_V2
from mmdl.visualization import draw_genotype, save_genotype
from mmdl.visualization.genotype import SHORT_NAMES, cell_edges


def test_cell_edges():
    edges = cell_edges(DARTS_V2.normal, DARTS_V2.normal_concat)
    assert edges[:3] == [('c_{k-2}', '0', 'sep 3x3'),
                         ('c_{k-1}', '0', 'sep 3x3'),
                         ('c_{k-2}', '1', 'sep 3x3')]
    assert edges[7] == ('0', '3', 'dil 3x3')
    assert edges[8:] == [(str(i), 'c_{k}', None) for i in range(4)]


def test_draw_labels_every_operation(tmp_path):
    fig = draw_genotype(DARTS_V2, title='DARTS_V2')
    normal, reduce = fig.axes
    for ax, pairs in ((normal, DARTS_V2.normal), (reduce, DARTS_V2.reduce)):
        texts = Counter(t.get_text() for t in ax.texts if t.get_text())
        assert texts == Counter(
            [SHORT_NAMES[op] for op, _ in pairs] +
            ['0', '1', '2', '3', '$c_{k-2}$', '$c_{k-1}$', '$c_{k}$'])
    assert [ax.get_title()
            for ax in fig.axes] == ['normal cell', 'reduction cell']
    path = tmp_path / 'sub' / 'cells.png'
    save_genotype(str(path), DARTS_V2)
    assert path.read_bytes()[:4] == b'\x89PNG'
