# Copyright (c) mmdl contributors. All rights reserved.
"""MultiTaskLinearClsHead: routing by task id against a per-sample
computation."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import MODELS as ROOT_MODELS
from mmpretrain.structures import DataSample

from mmdl.models.heads import MultiTaskLinearClsHead

NUM_CLASSES = [4, 3, 4]


def _samples(labels, task_ids):
    samples = []
    for label, task in zip(labels, task_ids):
        sample = DataSample().set_gt_label(int(label))
        if task is not None:
            sample.task_id = int(task)
        samples.append(sample)
    return samples


def _batch(num=12, seed=0):
    gen = torch.Generator().manual_seed(seed)
    feats = torch.randn(num, 8, generator=gen)
    task_ids = torch.randint(0, 3, (num, ), generator=gen)
    labels = torch.stack([
        torch.randint(0, NUM_CLASSES[t], (1, ), generator=gen)[0]
        for t in task_ids.tolist()
    ])
    return feats, task_ids, labels


def _head(**kwargs):
    torch.manual_seed(0)
    head = MultiTaskLinearClsHead(
        num_tasks=3, num_classes=NUM_CLASSES, in_channels=8, **kwargs)
    head.init_weights()
    return head


def test_loss_matches_per_sample_computation():
    head = _head()
    feats, task_ids, labels = _batch()
    loss = head.loss((feats, ), _samples(labels, task_ids.tolist()))['loss']
    expected = torch.stack([
        F.cross_entropy(head.fcs[t](feats[i:i + 1]), labels[i:i + 1])
        for i, t in enumerate(task_ids.tolist())
    ]).mean()
    assert torch.allclose(loss, expected, atol=1e-6)

    loss.backward()
    grads = [fc.weight.grad.clone() for fc in head.fcs]
    head.zero_grad()
    expected.backward()
    for fc, grad in zip(head.fcs, grads):
        assert torch.allclose(fc.weight.grad, grad, atol=1e-6)


def test_only_the_tasks_in_the_batch_get_gradients():
    head = _head()
    feats, _, _ = _batch(6)
    head.loss((feats, ), _samples([0] * 6, [2] * 6))['loss'].backward()
    assert head.fcs[0].weight.grad is None
    assert head.fcs[1].weight.grad is None
    assert head.fcs[2].weight.grad.abs().sum() > 0


def test_predict_matches_per_sample_computation():
    head = _head()
    feats, task_ids, labels = _batch()
    predictions = head.predict((feats, ), _samples(labels, task_ids.tolist()))
    for i, (task, pred) in enumerate(zip(task_ids.tolist(), predictions)):
        logits = head.fcs[task](feats[i])
        probs = F.softmax(logits, dim=0)
        # padded to the largest head with probability 0
        assert pred.pred_score.shape == (max(NUM_CLASSES), )
        assert torch.allclose(pred.pred_score[:NUM_CLASSES[task]], probs)
        assert torch.all(pred.pred_score[NUM_CLASSES[task]:] == 0)
        assert int(pred.pred_label) == int(logits.argmax())


def test_samples_without_task_id_use_default_task():
    head = _head()
    feats, _, labels = _batch(4)
    head.default_task = 1
    samples = _samples(labels.clamp(max=2), [None, 0, None, 2])
    assert head.task_ids(samples, 4).tolist() == [1, 0, 1, 2]
    assert head.task_ids(None, 3).tolist() == [1, 1, 1]
    # forward (tensor mode) uses the default task for all samples
    logits = head((feats, ))
    assert torch.allclose(logits[:, :3], head.fcs[1](feats))
    assert torch.all(torch.isinf(logits[:, 3:]))
    predictions = head.predict((feats, ))
    assert [int(p.pred_label) for p in predictions] == \
        head.fcs[1](feats).argmax(1).tolist()


def test_same_class_counts_and_accuracy():
    head = MultiTaskLinearClsHead(
        num_tasks=2, num_classes=5, in_channels=8, cal_acc=True)
    assert head.num_classes == [5, 5]
    feats = torch.randn(4, 8)
    samples = _samples([0, 1, 2, 3], [0, 1, 0, 1])
    losses = head.loss((feats, ), samples)
    assert set(losses) == {'loss', 'accuracy_top-1'}
    # one task in the batch: plain logits of its classifier
    assert torch.allclose(
        head((feats, ), torch.ones(4, dtype=torch.long)), head.fcs[1](feats))


def test_invalid_arguments():
    with pytest.raises(ValueError, match='entries'):
        MultiTaskLinearClsHead(num_tasks=2, num_classes=[3], in_channels=4)
    with pytest.raises(ValueError, match='positive'):
        MultiTaskLinearClsHead(num_tasks=2, num_classes=0, in_channels=4)
    head = MultiTaskLinearClsHead(num_tasks=2, num_classes=3, in_channels=4)
    with pytest.raises(ValueError, match='out of range'):
        head.task_ids(_samples([0], [2]), 1)


@pytest.mark.parametrize('scope', ['mmdl', 'mmpretrain'])
def test_build_from_config(scope):
    head = ROOT_MODELS.build(
        dict(
            type='mmdl.MultiTaskLinearClsHead',
            _scope_=scope,
            num_tasks=2,
            num_classes=[2, 3],
            in_channels=4))
    assert isinstance(head, MultiTaskLinearClsHead)
    assert type(head.loss_module).__name__ == 'CrossEntropyLoss'
