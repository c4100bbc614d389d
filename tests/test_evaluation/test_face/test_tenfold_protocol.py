# Copyright (c) mmdl contributors. All rights reserved.
"""The .bin 10-fold protocol against a brute-force implementation written
here: one pass per fold and per threshold, accuracy, VAL and FAR counted
with Python loops, the VAL threshold interpolated by hand."""
import numpy as np
import pytest

from mmdl.evaluation.face import (kfold_accuracy, kfold_val_far,
                                  pair_distances, verification_metrics)


def _embeddings(pairs, seed, noise=0.9):
    rng = np.random.default_rng(seed)
    issame = rng.random(pairs) < 0.5
    a = rng.normal(size=(pairs, 16))
    b = np.where(issame[:, None], a + noise * rng.normal(size=a.shape),
                 rng.normal(size=a.shape))
    emb = np.empty((2 * pairs, 16))
    emb[0::2], emb[1::2] = a, b
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return emb, issame


def _folds(n, k=10):
    """Contiguous folds as KFold(k, shuffle=False) cuts them."""
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    start, out = 0, []
    for size in sizes:
        test = list(range(start, start + size))
        out.append(([i for i in range(n) if i < start or i >= start + size],
                    test))
        start += size
    return out


def _brute_accuracy(dist, issame, thresholds):
    def acc(t, idx):
        right = 0
        for i in idx:
            right += (dist[i] < t) == issame[i]
        return right / len(idx)

    accs, best = [], []
    for train, test in _folds(len(dist)):
        scores = [acc(t, train) for t in thresholds]
        t_best = thresholds[scores.index(max(scores))]  # the first best
        best.append(t_best)
        accs.append(acc(t_best, test))
    return np.array(accs), np.array(best)


def _brute_val(dist, issame, thresholds, target=1e-3):
    vals, fars = [], []
    for train, test in _folds(len(dist)):
        far_train = []
        for t in thresholds:
            fa = sum(1 for i in train if dist[i] < t and not issame[i])
            far_train.append(fa / sum(1 for i in train if not issame[i]))
        if max(far_train) >= target:
            # the line from the last threshold whose FAR is at most the
            # target to the next threshold
            a = max(i for i, f in enumerate(far_train) if f <= target)
            if far_train[a] == target:
                t = thresholds[a]
            else:
                t = thresholds[a] + (target - far_train[a]) * (
                    thresholds[a + 1] - thresholds[a]) / (
                        far_train[a + 1] - far_train[a])
        else:
            t = 0.0
        same = [i for i in test if issame[i]]
        diff = [i for i in test if not issame[i]]
        vals.append(sum(dist[i] < t for i in same) / len(same))
        fars.append(sum(dist[i] < t for i in diff) / len(diff))
    return np.array(vals), np.array(fars)


@pytest.mark.parametrize('seed', [0, 1])
def test_accuracy_against_brute_force(seed):
    emb, issame = _embeddings(203, seed)  # folds of 21 and 20 pairs
    dist = pair_distances(emb)
    ref = np.sum((emb[0::2] - emb[1::2])**2, 1)
    assert np.allclose(dist, ref)
    thresholds = np.arange(0, 4, 0.01)
    accs, best = _brute_accuracy(dist, issame, thresholds)
    result = kfold_accuracy(dist, issame)
    assert np.array_equal(result['accuracy'], accs)
    assert np.array_equal(result['best_thresholds'], best)


def test_val_far_against_brute_force():
    emb, issame = _embeddings(400, 3, noise=1.2)
    dist = pair_distances(emb)
    thresholds = np.arange(0, 4, 0.01)  # coarser grid: the loops stay short
    vals, fars = _brute_val(dist, issame, thresholds, 1e-2)
    result = kfold_val_far(dist, issame, 1e-2, thresholds=thresholds)
    assert np.allclose(result['val'], vals)
    assert np.allclose(result['far'], fars)
    assert 0 < vals.mean() < 1


def test_summary_and_errors():
    emb, issame = _embeddings(600, 4)
    out = verification_metrics(emb, issame)
    accs, _ = _brute_accuracy(pair_distances(emb), issame,
                              np.arange(0, 4, 0.01))
    assert out['accuracy'] == pytest.approx(accs.mean())
    assert out['accuracy_std'] == pytest.approx(accs.std())  # population
    assert set(out) == {
        'accuracy', 'accuracy_std', 'threshold', 'val', 'val_std', 'far'
    }
    with pytest.raises(ValueError, match='expected twice as many'):
        verification_metrics(emb[:-1], issame)
    with pytest.raises(ValueError, match='cannot form 10 folds'):
        verification_metrics(emb[:8], issame[:4])
