# Copyright (c) mmdl contributors. All rights reserved.
"""Genotypes: the published DARTS cells, the JSON format read and written
with the json module, and clear errors for malformed files."""
import json

import pytest

from mmdl.models.nas import (DARTS_V1, DARTS_V2, GENOTYPES, Genotype,
                             dump_genotype, format_genotype,
                             genotype_from_dict, genotype_to_dict,
                             load_genotype)

# the published cells as the DARTS paper's figures list them, node by node
SHORT = dict(
    sep3='sep_conv_3x3',
    dil3='dil_conv_3x3',
    skip='skip_connect',
    max='max_pool_3x3',
    avg='avg_pool_3x3')
TABLE = {
    ('DARTS_V1', 'normal'):
    'sep3 1, sep3 0 | skip 0, sep3 1 | skip 0, sep3 1 '
    '| sep3 0, skip 2',
    ('DARTS_V1', 'reduce'):
    'max 0, max 1 | skip 2, max 0 | max 0, skip 2 | '
    'skip 2, avg 0',
    ('DARTS_V2', 'normal'):
    'sep3 0, sep3 1 | sep3 0, sep3 1 | sep3 1, skip 0 '
    '| skip 0, dil3 2',
    ('DARTS_V2', 'reduce'):
    'max 0, max 1 | skip 2, max 1 | max 0, skip 2 | '
    'skip 2, max 1',
}


def _parse(row):
    pairs = []
    for node in row.split('|'):
        for item in node.split(','):
            op, source = item.split()
            pairs.append((SHORT[op], int(source)))
    return pairs


@pytest.mark.parametrize('name,cell', sorted(TABLE))
def test_published_genotypes(name, cell):
    genotype = GENOTYPES[name]
    assert list(getattr(genotype, cell)) == _parse(TABLE[name, cell])
    assert getattr(genotype, f'{cell}_concat') == [2, 3, 4, 5]
    assert GENOTYPES['DARTS'] is DARTS_V2
    assert Genotype._fields == ('normal', 'normal_concat', 'reduce',
                                'reduce_concat')


def test_json_round_trip(tmp_path):
    path = tmp_path / 'sub' / 'genotype.json'
    dump_genotype(DARTS_V1, str(path))
    with open(path) as f:
        data = json.load(f)
    assert data['normal'][0] == ['sep_conv_3x3', 1]
    assert data['reduce_concat'] == [2, 3, 4, 5]
    assert load_genotype(str(path)) == DARTS_V1
    # a file written by hand in the same format
    other = tmp_path / 'v2.json'
    other.write_text(
        json.dumps({
            'normal': [list(p) for p in DARTS_V2.normal],
            'normal_concat': [2, 3, 4, 5],
            'reduce': [list(p) for p in DARTS_V2.reduce],
            'reduce_concat': [2, 3, 4, 5]
        }))
    assert load_genotype(str(other)) == DARTS_V2
    assert genotype_to_dict(load_genotype(str(other))) == json.loads(
        other.read_text())
    assert load_genotype('DARTS_V2') is DARTS_V2
    assert load_genotype(DARTS_V2._asdict()) == DARTS_V2


def _with(**changes):
    data = genotype_to_dict(DARTS_V2)
    data.update(changes)
    return data


@pytest.mark.parametrize('data,match', [
    (_with(normal=[['sep_conv_7x7', 0]] + [['skip_connect', 0]] * 7),
     "field 'normal'.*unknown operation 'sep_conv_7x7'"),
    (_with(normal=[['none', 0]] + [['skip_connect', 0]] * 7),
     "unknown operation 'none'"),
    (_with(reduce=[['max_pool_3x3', 0], ['max_pool_3x3', 2]] +
           [['skip_connect', 0]] * 6),
     r"field 'reduce'\[1\]: node 2 takes inputs 0..1, got 2"),
    (_with(normal=[['skip_connect', 0]] * 7), 'even number'),
    (_with(normal_concat=[2, 6]), "'normal_concat' must list nodes"),
    (_with(normal=[['skip_connect', '0']] * 8), r'\[operation, input\]'),
    ({
        'normal': []
    }, 'missing'),
    (_with(extra=1), "unknown \\['extra'\\]"),
    (_with(reduce=[['skip_connect', 0]] * 6,
           reduce_concat=[2, 3, 4]), 'same number of nodes'),
])
def test_malformed_genotypes(data, match):
    with pytest.raises(ValueError, match=match):
        genotype_from_dict(data, source='g.json')


def test_errors_name_the_file(tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"normal": ')
    with pytest.raises(ValueError, match='bad.json: not valid JSON'):
        load_genotype(str(bad))
    wrong = tmp_path / 'wrong.json'
    wrong.write_text(json.dumps(_with(normal_concat=[1])))
    with pytest.raises(ValueError, match="wrong.json: field 'normal_concat'"):
        load_genotype(str(wrong))
    with pytest.raises(FileNotFoundError, match='DARTS_V3'):
        load_genotype('DARTS_V3')
    with pytest.raises(ValueError, match='expected an object'):
        genotype_from_dict([1, 2])


def test_format_genotype():
    text = format_genotype(DARTS_V2)
    assert text.splitlines()[0].startswith(
        'normal: node 2 <- sep_conv_3x3(0) + sep_conv_3x3(1); node 3')
    assert 'node 5 <- skip_connect(2) + max_pool_3x3(1)' in text
