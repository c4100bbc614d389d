# Copyright (c) mmdl contributors. All rights reserved.
"""MFRMetric on samples as FaceRecognizer and MFRDataset produce them:
both protocols against the protocol functions, the weighted score, one
protocol alone, the registry and the errors for missing keys."""
import numpy as np
import pytest
import torch

from mmdl.evaluation import MFRMetric
from mmdl.evaluation.face import all_to_all_protocol, mask_protocol
from mmdl.evaluation.metrics.mfr import far_label
from mmdl.registry import METRICS


def _samples(seed=0, identities=30, dim=8):
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(identities, dim))
    ids = np.repeat(np.arange(identities), 3)
    masked = np.tile([True, False, False], identities)
    feats = directions[ids] + 1.3 * rng.normal(size=(len(ids), dim))
    samples = [
        dict(
            sample_idx=i,
            embedding=torch.tensor(feats[i], dtype=torch.float32),
            gt_label=torch.tensor([ids[i]]),
            masked=bool(masked[i])) for i in range(len(ids))
    ]
    return samples, feats.astype(np.float32), ids, masked


def test_metric_both_protocols_and_score():
    samples, feats, ids, masked = _samples()
    metric = MFRMetric(mask_far=1e-2, all_far=1e-3, block_size=16)
    metric.process(None, samples[:50])
    metric.process(None, samples[50:])
    out = metric.evaluate(len(samples))
    mask = mask_protocol(
        feats[masked], ids[masked], feats[~masked], ids[~masked], far=1e-2)
    every = all_to_all_protocol(feats, ids, far=1e-3)
    assert set(out) == {
        'mfr/mask_tar@far=1e-2', 'mfr/mask_threshold', 'mfr/all_tar@far=1e-3',
        'mfr/all_threshold', 'mfr/score'
    }
    assert out['mfr/mask_tar@far=1e-2'] == pytest.approx(100 * mask['tar'])
    assert out['mfr/all_tar@far=1e-3'] == pytest.approx(100 * every['tar'])
    assert out['mfr/mask_threshold'] == pytest.approx(mask['threshold'])
    assert out['mfr/score'] == pytest.approx(
        0.25 * out['mfr/mask_tar@far=1e-2'] +
        0.75 * out['mfr/all_tar@far=1e-3'])
    assert 0 < mask['tar'] < 1


def test_metric_one_protocol_defaults_and_registry():
    samples, feats, ids, _ = _samples(1)
    metric = METRICS.build(dict(type='MFRMetric', protocols=('all', )))
    assert metric.mask_far == 1e-4 and metric.all_far == 1e-6
    for sample in samples:  # the all-to-all protocol needs no mask flag
        sample.pop('masked')
    metric.process(None, samples)
    out = metric.evaluate(len(samples))
    assert set(out) == {'mfr/all_tar@far=1e-6', 'mfr/all_threshold'}
    assert far_label(1e-4) == '1e-4' and far_label(2.5e-3) == '2.5e-3'


def test_metric_errors():
    samples, *_ = _samples(2, identities=4)
    for key, hint in (('embedding', 'FaceRecognizer'),
                      ('gt_label', 'MFRDataset'), ('masked', 'meta_keys')):
        broken = dict(samples[0])
        broken.pop(key)
        with pytest.raises(KeyError, match=f"no '{key}'.*{hint}"):
            MFRMetric().process(None, [broken])
    metric = MFRMetric(protocols='mask')
    metric.process(None, [s for s in samples if not s['masked']])
    with pytest.raises(ValueError, match='masked and non-masked'):
        metric.evaluate(8)
    with pytest.raises(ValueError, match='protocols'):
        MFRMetric(protocols=('mask', 'lfw'))
    with pytest.raises(ValueError, match='mask_far'):
        MFRMetric(mask_far=0)
    with pytest.raises(ValueError, match='weights'):
        MFRMetric(weights=(1.0, ))
