# Copyright (c) mmdl contributors. All rights reserved.
"""DARTSBackbone: the published networks' sizes, output shapes for both
stems, drop-path on every non-identity operation (against an independent
computation of the cells) and the errors."""
import itertools
import json
from typing import List, Tuple

import pytest
import torch
from torch import Tensor, nn

from mmdl.models import DARTSBackbone
from mmdl.models.heads import AuxiliaryClsHead
from mmdl.models.nas import DARTS_V1, DARTS_V2, Genotype


def _params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


@pytest.fixture(scope='module')
def cifar_v2() -> DARTSBackbone:
    """DARTS_V2 in DARTS' CIFAR setting (20 cells, 36 channels)."""
    torch.manual_seed(0)
    return DARTSBackbone('DARTS_V2', 20, 36, stem='cifar', auxiliary=True)


def test_cifar_network_has_darts_size(cifar_v2):
    """3.3M parameters in the DARTS paper: the network and its 10-class
    linear classifier, without the auxiliary classifier (the reference
    code's ``count_parameters_in_MB`` leaves it out)."""
    head = AuxiliaryClsHead(10, 576, aux_in_channels=576)
    n = _params(cifar_v2, head.fc)
    assert abs(n - 3.3e6) / 3.3e6 < 0.03, n
    assert _params(head) - _params(head.fc) > 0  # the excluded aux tower
    assert len(cifar_v2.cells) == 20
    assert [i for i, c in enumerate(cifar_v2.cells) if c.reduction] == [6, 13]
    assert cifar_v2.out_channels == cifar_v2.auxiliary_channels == 576


def test_cifar_output_shapes(cifar_v2):
    cifar_v2.eval()
    with torch.no_grad():
        aux, last = cifar_v2(torch.randn(2, 3, 32, 32))
    # the auxiliary map is the output of cell 13, the second reduction
    assert aux.shape == (2, 576, 8, 8)
    assert last.shape == (2, 576, 8, 8)


def test_darts_v1_builds():
    torch.manual_seed(0)
    full = DARTSBackbone('DARTS_V1', 20, 36)
    assert full.genotype == DARTS_V1
    n = _params(full, nn.Linear(576, 10))
    assert 3.0e6 < n < 3.3e6, n
    small = DARTSBackbone(DARTS_V1, 5, 8, auxiliary=False).eval()
    with torch.no_grad():
        out = small(torch.randn(2, 3, 16, 16))
    assert len(out) == 1 and out[0].shape == (2, 128, 4, 4)


def test_imagenet_mobile_network_has_darts_size():
    """4.7M parameters in the DARTS paper (14 cells, 48 channels, the
    ImageNet stem, a 1000-class classifier)."""
    torch.manual_seed(0)
    net = DARTSBackbone('DARTS_V2', 14, 48, stem='imagenet', auxiliary=True)
    assert net.out_channels == net.auxiliary_channels == 768
    n = _params(net, nn.Linear(768, 1000))
    assert abs(n - 4.7e6) / 4.7e6 < 0.03, n


def test_imagenet_stem_output_shapes():
    """The stem divides the resolution by 8 (4 for the first cell's
    ``k - 2`` input); reductions at cells 2 and 4 of 6."""
    torch.manual_seed(0)
    net = DARTSBackbone(
        'DARTS_V2', 6, 8, stem='imagenet', auxiliary=True).eval()
    assert net.stem(torch.randn(1, 3, 64, 64)).shape == (1, 8, 16, 16)
    with torch.no_grad():
        aux, last = net(torch.randn(2, 3, 64, 64))
    assert aux.shape == (2, 128, 2, 2)
    assert last.shape == (2, 128, 2, 2)


# --- drop-path ------------------------------------------------------------
# normal: node 2 sums two separable convolutions (dropped), node 3 two
# identities (never dropped); reduce: node 2 a max pooling and a strided
# skip connection (a FactorizedReduce: dropped), node 3 twice node 2 through
# identities (stride 1 inside the cell: never dropped).
PROBE = dict(
    normal=[['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 0],
            ['skip_connect', 1]],
    normal_concat=[2, 3],
    reduce=[['max_pool_3x3', 0], ['skip_connect', 1], ['skip_connect', 2],
            ['skip_connect', 2]],
    reduce_concat=[2, 3])
C = 4  # channels of the first cells
P = 0.9  # drop-path probability


def _probe_net() -> DARTSBackbone:
    """3 cells: normal, reduce, reduce; drop-path probability P."""
    torch.manual_seed(0)
    net = DARTSBackbone(PROBE, num_layers=3, base_channels=C)
    assert isinstance(net.cells[0].ops[2], nn.Identity)
    assert isinstance(net.cells[1].ops[2], nn.Identity)
    assert not isinstance(net.cells[1].ops[1], nn.Identity)
    net.set_drop_path_prob(P)
    return net


def _run_recording(net: DARTSBackbone,
                   x: Tensor) -> List[Tuple[tuple, Tensor]]:
    """Forward ``x``; each cell's inputs and output."""
    records = []

    def record(module, args, out):
        records.append((args, out))

    handles = [cell.register_forward_hook(record) for cell in net.cells]
    net(x)
    for handle in handles:
        handle.remove()
    return records


def _node2_terms(cell: nn.Module, s0: Tensor, s1: Tensor) -> List[Tensor]:
    """The two operation outputs summed by node 2, computed outside the
    cell (batch norms in the cell's mode: same statistics)."""
    states = [cell.preprocess0(s0), cell.preprocess1(s1)]
    return [cell.ops[k](states[cell.inputs[k]]) for k in (0, 1)]


def test_drop_path_drops_whole_samples_of_non_identity_ops():
    net = _probe_net().train()
    torch.manual_seed(1)
    with torch.no_grad():
        records = _run_recording(net, torch.randn(32, 3, 8, 8))
        (s0, s1, prob), out = records[0]
        assert prob == P
        a, b = _node2_terms(net.cells[0], s0, s1)
    node2 = out[:, :C]
    # each sample keeps each term (scaled by 1 / (1 - P)) or drops it
    keep = 1 - P
    masks = []
    for n in range(len(node2)):
        found = [(m0, m1) for m0, m1 in itertools.product((0, 1), repeat=2)
                 if torch.allclose(
                     node2[n], (m0 * a[n] + m1 * b[n]) / keep, atol=1e-4)]
        assert len(found) == 1, n
        masks.append(found[0])
    dropped = sum(m == (0, 0) for m in masks)
    assert dropped >= 16  # expected 0.81 x 32
    assert len(set(masks)) > 1  # drawn per sample, not per batch


def test_identity_is_never_dropped():
    net = _probe_net().train()
    torch.manual_seed(2)
    with torch.no_grad():
        records = _run_recording(net, torch.randn(32, 3, 8, 8))
        (s0, s1, _), out = records[0]
        cell = net.cells[0]
        expected = cell.preprocess0(s0) + cell.preprocess1(s1)
    assert torch.allclose(out[:, C:], expected, atol=1e-5)
    # reduction cell: node 3 is twice node 2 in every sample, while node 2
    # (a pooling and a FactorizedReduce) is dropped in some samples
    reduced = records[1][1]
    node2, node3 = reduced[:, :2 * C], reduced[:, 2 * C:]
    assert torch.allclose(node3, 2 * node2, atol=1e-5)
    zero = (node2.flatten(1).abs().amax(1) == 0)
    assert zero.any() and not zero.all()


def test_nothing_is_dropped_in_eval_mode():
    net = _probe_net().eval()
    with torch.no_grad():
        records = _run_recording(net, torch.randn(8, 3, 8, 8))
        (s0, s1, prob), out = records[0]
        assert prob == P
        a, b = _node2_terms(net.cells[0], s0, s1)
    assert torch.allclose(out[:, :C], a + b, atol=1e-5)


def test_drop_path_prob_is_set_not_ramped_by_the_backbone():
    net = DARTSBackbone('DARTS_V2', 3, 4, drop_path_rate=0.3)
    assert net.drop_path_rate == 0.3 and net.drop_path_prob == 0.0
    net.set_drop_path_prob(0.15)
    assert net.drop_path_prob == 0.15


# --- genotypes and errors -------------------------------------------------
def test_genotype_from_a_json_file(tmp_path):
    path = tmp_path / 'genotype.json'
    with open(path, 'w') as f:
        json.dump(PROBE, f)
    net = DARTSBackbone(str(path), num_layers=3, base_channels=C)
    assert net.genotype == Genotype(
        normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0),
                ('skip_connect', 1)],
        normal_concat=[2, 3],
        reduce=[('max_pool_3x3', 0), ('skip_connect', 1), ('skip_connect', 2),
                ('skip_connect', 2)],
        reduce_concat=[2, 3])
    assert net.out_channels == 2 * 4 * C
    # a genotype dict, as a config would give it
    assert DARTSBackbone(PROBE, 3, C).genotype == net.genotype
    assert DARTSBackbone('DARTS', 3, C).genotype == DARTS_V2


def test_errors(tmp_path):
    with pytest.raises(ValueError, match='stem'):
        DARTSBackbone('DARTS_V2', 3, 4, stem='tiny')
    for rate in (-0.1, 1.0):
        with pytest.raises(ValueError, match='drop_path_rate'):
            DARTSBackbone('DARTS_V2', 3, 4, drop_path_rate=rate)
    net = DARTSBackbone('DARTS_V2', 3, 4)
    for prob in (-0.1, 1.0):
        with pytest.raises(ValueError, match='probability'):
            net.set_drop_path_prob(prob)
    with pytest.raises(FileNotFoundError, match='DARTS_V3'):
        DARTSBackbone('DARTS_V3', 3, 4)
    with pytest.raises(FileNotFoundError, match='missing.json'):
        DARTSBackbone(str(tmp_path / 'missing.json'), 3, 4)
    broken = tmp_path / 'broken.json'
    broken.write_text('{"normal": [')
    with pytest.raises(ValueError, match='not valid JSON'):
        DARTSBackbone(str(broken), 3, 4)
    bad_op = dict(PROBE, normal=[['conv_7x7', 0]] + PROBE['normal'][1:])
    with open(tmp_path / 'bad.json', 'w') as f:
        json.dump(bad_op, f)
    with pytest.raises(ValueError, match='conv_7x7'):
        DARTSBackbone(str(tmp_path / 'bad.json'), 3, 4)
