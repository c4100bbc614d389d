# Copyright (c) mmdl contributors. All rights reserved.
"""The ICCV2021-MFR protocol: the streaming top-k against a full sort, the
strict threshold rule on hand-made scores with ties, and the Mask and
all-to-all TARs against every pair scored with NumPy and read off
scikit-learn's ROC."""
import numpy as np
import pytest
import torch
from sklearn.metrics import roc_curve as sk_roc_curve

from mmdl.evaluation.face import (StreamingTopK, all_positive_pairs,
                                  all_to_all_protocol, far_rank, far_threshold,
                                  mask_positive_pairs, mask_protocol,
                                  mfr_score)


@pytest.mark.parametrize('k', [0, 1, 5, 37, 300, 1000])
def test_streaming_topk_equals_full_sort(k):
    rng = np.random.default_rng(k)
    # rounded values: many ties; blocks of random sizes and shapes
    blocks = [
        np.round(rng.normal(size=rng.integers(1, 60)), 1) for _ in range(12)
    ]
    blocks.append(np.round(rng.normal(size=(7, 9)), 1))
    top = StreamingTopK(k)
    for block in blocks:
        top.update(torch.from_numpy(block))
    everything = np.concatenate([b.ravel() for b in blocks])
    expected = np.sort(everything)[::-1][:k]
    assert np.array_equal(top.values().numpy(), expected)
    assert top.full == (len(everything) >= k)


def test_streaming_topk_skips_minus_inf_and_accepts_numpy():
    top = StreamingTopK(4)
    top.update(np.array([-np.inf, 0.5, -np.inf], dtype=np.float32))
    assert top.values().tolist() == [0.5] and not top.full
    assert top.kth == float('-inf')
    top.update(np.array([0.1, 0.7, 0.2, 0.2, -np.inf], dtype=np.float32))
    assert top.values().tolist() == pytest.approx([0.7, 0.5, 0.2, 0.2])
    assert top.kth == pytest.approx(0.2)
    top.update(torch.tensor([0.2, 0.3]))  # a tie at the k-th is no change
    assert top.values().tolist() == pytest.approx([0.7, 0.5, 0.3, 0.2])
    assert StreamingTopK(3).values().numel() == 0
    with pytest.raises(ValueError, match='k must be'):
        StreamingTopK(-1)


def test_far_rank_and_threshold_rule():
    assert far_rank(96983824, 1e-4) == 9698
    assert far_rank(1000000, 1e-6) == 1  # exact, not 0.999...
    assert far_rank(10, 0.29) == 2
    # k = floor(0.4 * 5) = 2: t is the 3rd largest; ties at t not accepted
    negatives = [0.1, 0.5, 0.9, 0.5, 0.5]
    assert far_threshold(negatives, 5, 0.4) == pytest.approx(0.5)
    assert far_threshold(negatives, 5, 0.1) == pytest.approx(0.9)
    # the 3 largest are enough
    assert far_threshold([0.9, 0.5, 0.5], 5, 0.4) == pytest.approx(0.5)
    assert far_threshold(negatives, 5, 1.0) == float('-inf')
    with pytest.raises(ValueError, match='needs the 3 largest'):
        far_threshold([0.9, 0.5], 5, 0.4)
    for bad in (0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r'FAR must be in \(0, 1\]'):
            far_threshold(negatives, 5, bad)
    with pytest.raises(ValueError, match='at least one negative'):
        far_threshold([], 0, 0.1)
    assert mfr_score(0.8, 0.6) == pytest.approx(0.25 * 0.8 + 0.75 * 0.6)
    assert mfr_score(1, 0, weights=(0.5, 0.5)) == 0.5


def test_positive_pairs():
    rows, cols = mask_positive_pairs([3, 1, 7], [1, 3, 3, 5, 1])
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (0, 2),
                                                         (1, 0), (1, 4)]
    assert rows.tolist() == sorted(rows.tolist())
    ids = [4, 2, 4, 4, 2, 9]
    rows, cols = all_positive_pairs(ids)
    expected = [(i, j) for i in range(6) for j in range(i + 1, 6)
                if ids[i] == ids[j]]
    assert sorted(zip(rows.tolist(), cols.tolist())) == expected
    assert rows.tolist() == sorted(rows.tolist())


def _normed(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _reference(scores, labels, far):
    """TAR of the strict rule from every score, and the same TAR read off
    scikit-learn's ROC (thresholds ">=" at every distinct score): with no
    ties it is the largest TPR of the points with at most k false
    accepts."""
    negatives = np.sort(scores[labels == 0])[::-1]
    k = int(np.floor(far * len(negatives) + 1e-9))
    threshold = negatives[k]
    tar = float(np.mean(scores[labels == 1] > threshold))
    fpr, tpr, _ = sk_roc_curve(labels, scores, drop_intermediate=False)
    fps = np.rint(fpr * len(negatives))
    assert np.sum(scores[labels == 0] > threshold) == k  # no ties
    assert tar == pytest.approx(tpr[fps <= k].max())
    return tar, threshold, k


def _mask_data(seed=0, identities=40, plain_per_id=3, dim=16):
    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(identities, dim))
    masked_ids = rng.permutation(identities)[:identities - 5]  # some absent
    plain_ids = rng.permutation(np.repeat(np.arange(identities), plain_per_id))
    masked = directions[masked_ids] + 1.2 * rng.normal(
        size=(len(masked_ids), dim))
    plain = directions[plain_ids] + 1.2 * rng.normal(
        size=(len(plain_ids), dim))
    return (3 * masked).astype(np.float32), masked_ids + 100, \
        plain.astype(np.float32), plain_ids + 100


@pytest.mark.parametrize('far', [1e-3, 1e-2, 0.1])
def test_mask_protocol_against_all_pairs(far):
    masked, masked_ids, plain, plain_ids = _mask_data()
    scores = (
        _normed(masked.astype(np.float64)) @ _normed(plain.astype(
            np.float64)).T)
    labels = (masked_ids[:, None] == plain_ids[None, :]).astype(int)
    tar, threshold, k = _reference(scores.ravel(), labels.ravel(), far)
    result = mask_protocol(
        masked,
        masked_ids,
        torch.from_numpy(plain),
        plain_ids,
        far=far,
        block_size=7)
    assert result['num_positive'] == labels.sum()
    assert result['num_negative'] == labels.size - labels.sum()
    assert result['tar'] == tar
    assert result['threshold'] == pytest.approx(threshold, abs=1e-6)
    assert result['false_accepts'] == k
    assert result['far'] == far
    # the block size does not change the result
    for block in (1, 16, 1000):
        again = mask_protocol(
            masked, masked_ids, plain, plain_ids, far=far, block_size=block)
        assert again['tar'] == result['tar']
        assert again['threshold'] == pytest.approx(
            result['threshold'], abs=1e-6)


@pytest.mark.parametrize('far', [1e-4, 1e-3, 3e-2])
def test_all_to_all_protocol_against_all_pairs(far):
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 60, 300)
    feats = rng.normal(size=(60, 16))[ids] + 1.5 * rng.normal(size=(300, 16))
    normed = _normed(feats)
    upper = np.triu_indices(len(ids), 1)
    scores = (normed @ normed.T)[upper]
    labels = (ids[:, None] == ids[None, :])[upper].astype(int)
    tar, threshold, k = _reference(scores, labels, far)
    results = [
        all_to_all_protocol(feats, ids, far=far, block_size=block)
        for block in (1, 13, 64, 300, 512)
    ]
    for result in results:
        assert result['num_positive'] == labels.sum()
        assert result['num_negative'] == len(labels) - labels.sum()
        assert result['tar'] == tar
        assert result['threshold'] == pytest.approx(threshold, abs=1e-6)
        assert result['false_accepts'] == k


def test_far_one_accepts_everything_and_errors():
    masked, masked_ids, plain, plain_ids = _mask_data(identities=10)
    result = mask_protocol(masked, masked_ids, plain, plain_ids, far=1.0)
    assert result['tar'] == 1.0 and result['threshold'] == float('-inf')
    with pytest.raises(ValueError, match='4 masked_ids for 5 masked_feats'):
        mask_protocol(masked, masked_ids[:4], plain, plain_ids)
    with pytest.raises(ValueError, match='dimensions'):
        mask_protocol(masked, masked_ids, plain[:, :3], plain_ids)
    with pytest.raises(ValueError, match='no positive pair'):
        mask_protocol(masked, masked_ids, plain, plain_ids + 1000)
    with pytest.raises(ValueError, match='no negative pair'):
        mask_protocol(masked[:1], [1], plain[:2], [1, 1])
    with pytest.raises(ValueError, match='FAR must be'):
        mask_protocol(masked, masked_ids, plain, plain_ids, far=0)
    with pytest.raises(ValueError, match='block_size'):
        all_to_all_protocol(plain, plain_ids, block_size=0)
    with pytest.raises(ValueError, match='no positive pair'):
        all_to_all_protocol(plain[:3], [1, 2, 3])
    with pytest.raises(ValueError, match='no negative pair'):
        all_to_all_protocol(plain[:3], [1, 1, 1])
    with pytest.raises(ValueError, match=r'must be \[N, D\]'):
        all_to_all_protocol(plain[0], [1])
