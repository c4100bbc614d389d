# Copyright (c) mmdl contributors. All rights reserved.
"""IJB 1:1 verification: template aggregation against a per-template
Python loop, pair scores against direct dot products, the ROC and its AUC
against scikit-learn, TAR@FAR against insightface's nearest-FPR rule
applied to scikit-learn's ROC."""
import numpy as np
import pytest
import torch
from sklearn.metrics import auc as sk_auc
from sklearn.metrics import roc_curve as sk_roc_curve

from mmdl.evaluation.face import (FAR_TARGETS, auc, evaluate_ijb,
                                  image_features, pair_scores, roc_curve,
                                  tar_at_far, template_features)


def _protocol(seed=0, images=300, templates=40, dim=16, pairs=500):
    rng = np.random.default_rng(seed)
    tids = rng.choice(np.arange(100, 100 + 3 * templates, 3), images)
    mids = rng.integers(0, 5, images) + 10 * (tids % 7)
    feats = rng.normal(size=(images, dim)).astype(np.float32)
    faceness = rng.uniform(0.5, 1.0, images).astype(np.float32)
    present = np.unique(tids)
    p1, p2 = rng.choice(present, pairs), rng.choice(present, pairs)
    labels = rng.integers(0, 2, pairs)
    return feats, tids, mids, faceness, (p1, p2, labels)


def _loop_templates(feats, tids, mids):
    """insightface's aggregation written as loops: per template, per
    media the mean of its images, the media summed, then normalised."""
    out = {}
    for t in sorted(set(tids.tolist())):
        medias = {}
        for f, ti, m in zip(feats, tids, mids):
            if ti == t:
                medias.setdefault(m, []).append(f.astype(np.float64))
        total = sum(np.mean(v, 0) for v in medias.values())
        out[t] = total / np.linalg.norm(total)
    return out


def test_template_aggregation_against_loops():
    feats, tids, mids, faceness, _ = _protocol()
    weighted = image_features(feats, faceness)
    assert torch.allclose(weighted, torch.tensor(feats * faceness[:, None]))
    got, ids = template_features(weighted, tids, mids)
    ref = _loop_templates(feats * faceness[:, None], tids, mids)
    assert ids.tolist() == sorted(ref)
    for row, t in zip(got, ids.tolist()):
        assert np.allclose(row.numpy(), ref[t], atol=1e-5)
    normalised = image_features(feats, None, normalise=True)
    assert torch.allclose(normalised.norm(dim=1), torch.ones(len(feats)))


def test_pair_scores_against_dot_products():
    feats, tids, mids, _, (p1, p2, _) = _protocol(1)
    templates, ids = template_features(feats, tids, mids)
    row = {t: i for i, t in enumerate(ids.tolist())}
    ref = np.array([
        float(templates[row[a]] @ templates[row[b]])
        for a, b in zip(p1, p2)
    ])
    for block in (3, 7, 2048):  # many blocks, one block
        got = pair_scores(templates, ids, p1, p2, block=block).numpy()
        assert np.allclose(got, ref, atol=1e-6)
    with pytest.raises(KeyError, match='have no image'):
        pair_scores(templates, ids, [1], [100])


@pytest.mark.parametrize('ties', [False, True])
def test_roc_against_sklearn(ties):
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 3000)
    scores = rng.normal(size=3000) + labels
    if ties:  # many equal scores
        scores = np.round(scores, 1)
    scores = scores.astype(np.float32)
    for drop in (True, False):
        got = roc_curve(labels, torch.from_numpy(scores),
                        drop_intermediate=drop)
        fpr, tpr, thresholds = sk_roc_curve(
            labels, scores, drop_intermediate=drop)
        assert np.array_equal(got['fpr'], fpr)
        assert np.array_equal(got['tpr'], tpr)
        assert np.allclose(got['thresholds'][1:], thresholds[1:])
        assert np.isinf(got['thresholds'][0])
    assert auc(got['fpr'], got['tpr']) == pytest.approx(sk_auc(fpr, tpr))


def _insightface_tar(labels, scores, targets):
    """eval_ijbc.py's rule on scikit-learn's ROC: flip the curve, take the
    first point of minimal |fpr - target| (the largest TPR among ties)."""
    fpr, tpr, _ = sk_roc_curve(labels, scores)
    fpr, tpr = np.flipud(fpr), np.flipud(tpr)
    out = {}
    for target in targets:
        _, index = min(zip(abs(fpr - target), range(len(fpr))))
        out[target] = tpr[index]
    return out


def test_tar_at_far_against_insightface_rule():
    rng = np.random.default_rng(7)
    labels = np.r_[np.ones(2000), np.zeros(200000)].astype(int)
    scores = np.r_[rng.normal(2.0, 1.0, 2000),
                   rng.normal(0.0, 1.0, 200000)].astype(np.float32)
    roc = roc_curve(labels, scores)
    got = tar_at_far(roc['fpr'], roc['tpr'])
    ref = _insightface_tar(labels, scores, FAR_TARGETS)
    for target in FAR_TARGETS:
        assert got[target] == pytest.approx(ref[target])
    assert 0 < got[1e-4] < got[1e-2] < got[1e-1] <= 1


def test_evaluate_ijb_end_to_end():
    feats, tids, mids, faceness, (p1, p2, _) = _protocol(2, images=600)
    # genuine pairs share the template's identity direction
    labels = (p1 % 2 == p2 % 2).astype(int)
    direction = np.where(tids[:, None] % 2 == 0, 1.0, -1.0)
    feats = feats + 3 * direction.astype(np.float32)
    result = evaluate_ijb(feats, tids, mids, (p1, p2, labels), faceness)
    assert result['auc'] > 0.9
    assert set(result['tar']) == set(FAR_TARGETS)
    templates = _loop_templates(feats * faceness[:, None], tids, mids)
    ref = np.array([templates[a] @ templates[b] for a, b in zip(p1, p2)])
    assert np.allclose(result['scores'].numpy(), ref, atol=1e-5)
    with pytest.raises(ValueError, match='features'):
        template_features(feats[:-1], tids, mids)
