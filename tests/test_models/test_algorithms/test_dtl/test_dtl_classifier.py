# Copyright (c) mmdl contributors. All rights reserved.
"""DTLClassifier: the loss it trains, the warm-up, the source head and
batch-norm options, the source checkpoint and the feature extractors."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmdl.registry import MODELS


def _cfg(**kwargs):
    cfg = dict(
        type='mmdl.DTLClassifier',
        classifier=dict(
            type='ImageClassifier',
            _scope_='mmpretrain',
            data_preprocessor=dict(
                type='ClsDataPreprocessor', mean=[0.0], std=[1.0]),
            backbone=dict(
                type='mmdl.MLP',
                in_features=12,
                hidden=(10, ),
                norm_cfg=dict(type='BN1d'),
                act_cfg=dict(type='Tanh')),
            neck=None,
            head=dict(type='LinearClsHead', num_classes=3, in_channels=10)),
        source_head=dict(
            type='LinearClsHead', _scope_='mmpretrain', num_classes=4,
            in_channels=10),
        disposal_loss=dict(type='GCLoss', hvp='exact'))
    cfg.update(kwargs)
    return cfg


def _build(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(_cfg(**kwargs))
    model.init_weights()
    return model.double()


def _batch(n, classes, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 3, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, classes, (n, ), generator=gen)
    return dict(
        inputs=list(x),
        data_samples=[DataSample().set_gt_label(int(v)) for v in y]), x, y


def _data(seed=0):
    target, xt, yt = _batch(8, 3, seed)
    source, xs, ys = _batch(8, 4, seed + 100)
    return dict(target, source=source), (xt, yt), (xs, ys)


def _sgd(model, lr=0.1):
    return OptimWrapper(
        torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                        lr=lr))


def _cosine_penalty(model, xs, ys, k=2):
    """Brute force: mean pairwise cosine of the per-mini-batch source
    gradients over backbone parameters, through the source head."""
    params = list(model.classifier.backbone.parameters())
    grads = []
    for x, y in zip(xs.tensor_split(k), ys.tensor_split(k)):
        feats = model.classifier.backbone(x.flatten(1))
        logits = model.source_head.fc(feats[-1])
        g = torch.autograd.grad(
            F.cross_entropy(logits, y), params, create_graph=True)
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    return F.cosine_similarity(grads[0], grads[1], dim=0)


def test_train_step_descends_target_ce_plus_weighted_gc():
    model = _build(disposal_weight=0.7)
    reference = copy.deepcopy(model)
    data, (xt, yt), (xs, ys) = _data()
    log = model.train_step(data, _sgd(model))
    # the same step by hand: target CE + 0.7 * cosine, SGD lr 0.1; the
    # brute-force source passes use batch statistics without tracking them
    norms = [m for m in reference.modules()
             if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms
    target = F.cross_entropy(reference.classifier(xt, mode='tensor'), yt)
    for m in norms:
        m.track_running_stats = False
    penalty = _cosine_penalty(reference, xs, ys)
    for m in norms:
        m.track_running_stats = True
    assert float(log['loss_target']) == pytest.approx(target.item(), rel=1e-6)
    assert float(log['loss_gc']) == pytest.approx(0.7 * penalty.item(), rel=1e-6)
    assert float(log['loss']) == pytest.approx(
        target.item() + 0.7 * penalty.item(), rel=1e-6)
    params = [p for p in reference.parameters() if p.requires_grad]
    grads = torch.autograd.grad(target + 0.7 * penalty, params)
    trained = [p for p in model.parameters() if p.requires_grad]
    for p0, g, p1 in zip(params, grads, trained):
        assert torch.allclose(p0 - 0.1 * g, p1, atol=1e-10)
    # running statistics moved by the target batch only
    for m, m_ref in zip(model.modules(), reference.modules()):
        if isinstance(m, torch.nn.BatchNorm1d):
            assert torch.allclose(m.running_mean, m_ref.running_mean)
    assert int(model.iter_count) == 1


def test_warmup_ramps_the_weight_linearly():
    model = _build(disposal_weight=2.0, warmup_iters=4)
    data, _, _ = _data()
    optim = _sgd(model, lr=0.0)
    weights = [model.train_step(data, optim)['disposal_weight']
               for _ in range(6)]
    assert weights == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.0, 2.0])
    # the counter is in the state dict: a resumed run continues the ramp
    state = model.state_dict()
    fresh = _build(disposal_weight=2.0, warmup_iters=4)
    fresh.load_state_dict(state)
    assert fresh.current_disposal_weight() == 2.0


@pytest.mark.parametrize('trainable', [False, True])
def test_source_head_frozen_or_trainable(trainable):
    model = _build(train_source_head=trainable)
    before = copy.deepcopy(model.source_head.state_dict())
    data, _, _ = _data()
    model.train_step(data, _sgd(model))
    changed = any(not torch.equal(before[k], v)
                  for k, v in model.source_head.state_dict().items())
    assert changed == trainable


def test_frozen_source_bn_uses_running_statistics():
    model = _build(source_bn='frozen')
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.normal_()
    reference = copy.deepcopy(model)
    data, (xt, _), (xs, ys) = _data(3)
    log = model.train_step(data, _sgd(model, lr=0.0))
    # the source passes come after the target pass, which moved the
    # running statistics
    with torch.no_grad():
        reference.classifier(xt, mode='tensor')
    reference.eval()
    assert float(log['loss_gc']) == pytest.approx(
        _cosine_penalty(reference, xs, ys).item(), rel=1e-6)


def test_plain_finetuning_needs_no_source_batch():
    model = _build(disposal_loss=None)
    data, _, _ = _data()
    data.pop('source')
    log = model.train_step(data, _sgd(model))
    assert set(log) == {'loss', 'loss_target'}
    with pytest.raises(KeyError, match='PairedEpochBasedTrainLoop'):
        _build().train_step(data, _sgd(model))


def test_source_checkpoint_and_feature_extractors(tmp_path):
    torch.manual_seed(5)
    source = MODELS.build(_cfg()['classifier'] | dict(
        head=dict(type='LinearClsHead', num_classes=4, in_channels=10)))
    path = tmp_path / 'source.pth'
    torch.save(dict(state_dict=source.state_dict()), path)
    model = MODELS.build(_cfg(source_checkpoint=str(path)))
    model.init_weights()
    # backbone and source head come from the checkpoint
    for k, v in source.backbone.state_dict().items():
        assert torch.equal(model.classifier.backbone.state_dict()[k], v)
    assert torch.equal(model.source_head.fc.weight, source.head.fc.weight)
    x = torch.randn(6, 1, 3, 4)
    model.eval()
    source.eval()
    assert torch.allclose(model.source_logits(x), source(x, mode='tensor'))
    pretrained = model.feature_extractor('pretrained').eval()
    assert torch.allclose(pretrained(x),
                          source.backbone(x.flatten(1))[-1])
    # random: reproducible by seed, different across seeds
    a = model.feature_extractor('random', seed=1).eval()
    b = model.feature_extractor('random', seed=1).eval()
    c = model.feature_extractor('random', seed=2).eval()
    assert torch.equal(a(x), b(x)) and not torch.allclose(a(x), c(x))
    # current: a copy, not a view
    current = model.feature_extractor('current')
    next(current.parameters()).data.zero_()
    assert next(model.classifier.backbone.parameters()).abs().sum() > 0
    with pytest.raises(ValueError, match='weights must be one of'):
        model.feature_extractor('imagenet')
    with pytest.raises(ValueError, match='source_checkpoint'):
        _build().feature_extractor('pretrained')


def test_bad_arguments():
    with pytest.raises(ValueError, match='source_bn'):
        MODELS.build(_cfg(source_bn='eval'))
    with pytest.raises(ValueError, match='source_head_init'):
        MODELS.build(_cfg(source_head_init='imagenet'))
    with pytest.raises(ValueError, match='num_source_batches'):
        MODELS.build(_cfg(num_source_batches=0))
    model = _build(num_source_batches=16)
    data, _, _ = _data()
    with pytest.raises(ValueError, match='cannot be split'):
        model.train_step(data, _sgd(model))
