# Copyright (c) mmdl contributors. All rights reserved.
"""BinVerificationMetric and IJBVerificationMetric on samples as
FaceRecognizer and the datasets produce them: sets told apart, order
restored, embeddings normalised, IJB pairs read from the suite, ROC files
written, and a saved feature file scored again."""
import json

import numpy as np
import pytest
import torch

from mmdl.evaluation import BinVerificationMetric, IJBVerificationMetric
from mmdl.evaluation.face import evaluate_ijb, verification_metrics
from mmdl.evaluation.metrics import evaluate_feature_file


def _bin_samples(name, pairs, seed):
    rng = np.random.default_rng(seed)
    issame = rng.random(pairs) < 0.5
    a = rng.normal(size=(pairs, 8))
    b = np.where(issame[:, None], a + 0.5 * rng.normal(size=a.shape),
                 rng.normal(size=a.shape))
    emb = np.empty((2 * pairs, 8))
    emb[0::2], emb[1::2] = 3 * a, 2 * b  # un-normalised
    samples = [
        dict(
            sample_idx=i,
            pair_index=i // 2,
            issame=bool(issame[i // 2]),
            dataset_name=name,
            embedding=torch.tensor(emb[i], dtype=torch.float32),
            embedding_norm=torch.tensor(float(np.linalg.norm(emb[i]))))
        for i in range(2 * pairs)
    ]
    return samples, emb, issame


def test_bin_metric_per_set_in_any_order():
    lfw, emb, issame = _bin_samples('lfw', 60, 0)
    agedb, emb2, issame2 = _bin_samples('agedb_30', 40, 1)
    metric = BinVerificationMetric()
    mixed = lfw + agedb
    np.random.default_rng(2).shuffle(mixed)  # gathered out of order
    metric.process(None, mixed[:70])
    metric.process(None, mixed[70:])
    out = metric.evaluate(len(mixed))
    normed = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    ref = verification_metrics(normed, issame)
    assert out['verification/lfw/accuracy'] == pytest.approx(
        100 * ref['accuracy'])
    assert out['verification/lfw/tar@far=0.001'] == pytest.approx(
        100 * ref['val'])
    assert out['verification/lfw/xnorm'] == pytest.approx(
        np.linalg.norm(emb, axis=1).mean(), rel=1e-6)
    assert 'verification/agedb_30/accuracy_std' in out
    metric = BinVerificationMetric()
    metric.process(None, lfw[1:])
    with pytest.raises(ValueError, match='complete pairs'):
        metric.evaluate(len(lfw) - 1)
    with pytest.raises(KeyError, match="no 'embedding'"):
        BinVerificationMetric().process(None, [dict(sample_idx=0)])


def _suite(root, images=40, templates=10):
    rng = np.random.default_rng(3)
    (root / 'meta').mkdir(parents=True)
    tids = np.sort(rng.integers(0, templates, images)) + 200
    mids = rng.integers(0, 3, images)
    score = rng.uniform(0.5, 1, images)
    lines = [
        f'{i}.jpg ' + ' '.join(['1.0'] * 10) + f' {score[i]:.4f}'
        for i in range(images)
    ]
    (root / 'meta' / 'ijbc_name_5pts_score.txt').write_text(
        '\n'.join(lines) + '\n')
    (root / 'meta' / 'ijbc_face_tid_mid.txt').write_text('\n'.join(
        f'{i}.jpg {tids[i]} {mids[i]}' for i in range(images)) + '\n')
    present = np.unique(tids)
    pairs = [(a, b, int((a + b) % 2 == 0)) for a in present for b in present
             if a < b]
    (root / 'meta' / 'ijbc_template_pair_label.txt').write_text(
        '\n'.join(f'{a} {b} {c}' for a, b, c in pairs) + '\n')
    feats = rng.normal(size=(images, 16)).astype(np.float32)
    feats += np.where(tids[:, None] % 2 == 0, 2.0, -2.0).astype(np.float32)
    return feats, tids, mids, np.float32(np.round(score, 4)), pairs


def test_ijb_metric_and_feature_file(tmp_path):
    feats, tids, mids, faceness, pairs = _suite(tmp_path / 'ijb')
    metric = IJBVerificationMetric(
        data_root=str(tmp_path / 'ijb'),
        save_features=str(tmp_path / 'feats.npy'),
        out_dir=str(tmp_path / 'roc'),
        progress=False)
    samples = [
        dict(
            sample_idx=i,
            embedding=torch.from_numpy(feats[i]),
            template_id=int(tids[i]),
            media_id=int(mids[i]),
            faceness=float(faceness[i])) for i in range(len(feats))
    ]
    metric.process(None, samples[::-1])
    out = metric.evaluate(len(samples))
    p1, p2, labels = (np.array([p[k] for p in pairs]) for k in range(3))
    ref = evaluate_ijb(feats, tids, mids, (p1, p2, labels), faceness)
    for far, tar in ref['tar'].items():
        assert out[f'ijb/IJBC/tar@far={far:g}'] == pytest.approx(100 * tar)
    assert out['ijb/IJBC/auc'] == pytest.approx(100 * ref['auc'])
    assert np.array_equal(np.load(tmp_path / 'feats.npy'), feats)
    roc = json.loads((tmp_path / 'roc' / 'ijbc_roc.json').read_text())
    assert set(roc) == {'tar', 'auc', 'roc'}
    assert (tmp_path / 'roc' / 'ijbc_roc.png').read_bytes()[:4] == \
        b'\x89PNG'
    # a saved file of original|flip halves, scored again (F2 = their sum)
    np.save(tmp_path / 'halves.npy', np.concatenate([feats, feats], 1))
    again = evaluate_feature_file(
        str(tmp_path / 'halves.npy'), str(tmp_path / 'ijb'), halves=True,
        progress=False)
    assert again['tar'] == pytest.approx(
        evaluate_ijb(2 * feats, tids, mids, (p1, p2, labels),
                     faceness)['tar'])
    np.save(tmp_path / 'short.npy', feats[:-1])
    with pytest.raises(ValueError, match='39 features'):
        evaluate_feature_file(str(tmp_path / 'short.npy'),
                              str(tmp_path / 'ijb'))
    with pytest.raises(KeyError, match="lacks \\['template_id'"):
        metric.process(None, [dict(embedding=torch.zeros(2))])
