# Copyright (c) mmdl contributors. All rights reserved.
"""AuxiliaryClsHead: the weighted auxiliary loss against cross-entropies
computed on the head's own classifiers, predictions from the main
classifier only, and the configurations without an auxiliary
classifier."""
from typing import List, Tuple

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample
from torch import Tensor

from mmdl.models.heads import AuxiliaryClsHead
from mmdl.registry import MODELS

NUM_CLASSES = 5


def _samples(labels: Tensor) -> List[DataSample]:
    return [DataSample().set_gt_label(int(label)) for label in labels]


def _feats(num: int = 6,
           aux_size: int = 8,
           seed: int = 0) -> Tuple[Tuple[Tensor, Tensor], Tensor]:
    """(auxiliary map of 12 channels, last map of 16 channels), labels."""
    gen = torch.Generator().manual_seed(seed)
    aux = torch.randn(num, 12, aux_size, aux_size, generator=gen)
    last = torch.randn(num, 16, 4, 4, generator=gen)
    labels = torch.randint(0, NUM_CLASSES, (num, ), generator=gen)
    return (aux, last), labels


def _head(**kwargs) -> AuxiliaryClsHead:
    torch.manual_seed(0)
    kwargs.setdefault('aux_in_channels', 12)
    return AuxiliaryClsHead(NUM_CLASSES, 16, **kwargs)


def _main_logits(head: AuxiliaryClsHead, last: Tensor) -> Tensor:
    return head.fc(last.mean(dim=(2, 3)))


def test_loss_is_main_plus_weighted_auxiliary_cross_entropy():
    head = _head().train()
    (aux, last), labels = _feats()
    losses = head.loss((aux, last), _samples(labels))
    assert set(losses) == {'loss_cls', 'loss_aux'}
    main = F.cross_entropy(_main_logits(head, last), labels)
    aux_loss = F.cross_entropy(head.aux(aux), labels)
    assert torch.allclose(losses['loss_cls'], main, atol=1e-6)
    assert torch.allclose(losses['loss_aux'], 0.4 * aux_loss, atol=1e-6)
    total = sum(losses.values())
    assert torch.allclose(total, main + 0.4 * aux_loss, atol=1e-6)
    # both classifiers receive gradients
    total.backward()
    assert head.fc.weight.grad.abs().sum() > 0
    assert all(p.grad is not None for p in head.aux.parameters())


def test_aux_weight_scales_the_auxiliary_loss():
    (aux, last), labels = _feats()
    heavy = _head(aux_weight=1.0).train()
    losses = heavy.loss((aux, last), _samples(labels))
    assert torch.allclose(
        losses['loss_aux'], F.cross_entropy(heavy.aux(aux), labels), atol=1e-6)
    assert set(_head(aux_weight=0.0).loss((aux, last),
                                          _samples(labels))) == {'loss_cls'}


def test_predict_uses_the_main_classifier_only():
    head = _head().eval()
    (aux, last), labels = _feats()
    expected = F.softmax(_main_logits(head, last), dim=1)
    predictions = head.predict((aux, last), _samples(labels))
    scores = torch.stack([p.pred_score for p in predictions])
    assert torch.allclose(scores, expected, atol=1e-6)
    assert [int(p.pred_label)
            for p in predictions] == expected.argmax(1).tolist()
    # the auxiliary map does not matter, nor does its presence
    other = head.predict((torch.randn_like(aux), last))
    alone = head.predict((last, ))
    for a, b in zip(other + alone, predictions + predictions):
        assert torch.allclose(a.pred_score, b.pred_score)
    assert torch.allclose(head((aux, last)), _main_logits(head, last))


def test_no_auxiliary_classifier_without_aux_in_channels():
    head = _head(aux_in_channels=None).train()
    assert head.aux is None
    (aux, last), labels = _feats()
    main = F.cross_entropy(_main_logits(head, last), labels)
    for feats in ((last, ), (aux, last)):
        losses = head.loss(feats, _samples(labels))
        assert set(losses) == {'loss_cls'}
        assert torch.allclose(losses['loss_cls'], main, atol=1e-6)


def test_one_feature_map_with_auxiliary_classifier_fails():
    head = _head().train()
    (_, last), labels = _feats()
    with pytest.raises(ValueError, match='auxiliary=True'):
        head.loss((last, ), _samples(labels))


def test_auxiliary_classifier_types():
    """CIFAR type for 8x8 maps (batch norm after the 2x2 convolution),
    ImageNet type for 7x7 maps (none, as the reference code); the CIFAR
    type's 5x5 pooling fails on 4x4 maps."""
    cifar = _head().train()
    imagenet = _head(aux_type='imagenet').train()
    norms = [
        sum(isinstance(m, torch.nn.BatchNorm2d) for m in h.aux)
        for h in (cifar, imagenet)
    ]
    assert norms == [2, 1]
    (aux8, _), _ = _feats(aux_size=8)
    (aux7, _), _ = _feats(aux_size=7)
    assert cifar.aux(aux8).shape == (6, NUM_CLASSES)
    assert imagenet.aux(aux7).shape == (6, NUM_CLASSES)
    (aux4, _), _ = _feats(aux_size=4)
    with pytest.raises(RuntimeError):
        cifar.aux(aux4)
    with pytest.raises(ValueError, match='aux_type'):
        _head(aux_type='tiny')


def test_built_from_the_registry():
    with DefaultScope.overwrite_default_scope('mmdl'):
        head = MODELS.build(
            dict(
                type='AuxiliaryClsHead',
                num_classes=NUM_CLASSES,
                in_channels=16,
                aux_in_channels=12,
                aux_weight=0.25,
                loss=dict(type='mmpretrain.CrossEntropyLoss')))
    assert isinstance(head, AuxiliaryClsHead) and head.aux_weight == 0.25
