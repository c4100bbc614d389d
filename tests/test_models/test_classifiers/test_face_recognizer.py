# Copyright (c) mmdl contributors. All rights reserved.
"""FaceRecognizer: embeddings fused with the flipped image's, their norm,
and sharded class centres left out of DDP."""
import torch

from mmdl.registry import MODELS


def _build(flip_test=True, head=None):
    torch.manual_seed(0)
    return MODELS.build(
        dict(
            type='mmdl.FaceRecognizer',
            _scope_='mmpretrain',
            flip_test=flip_test,
            backbone=dict(
                type='mmdl.MLP', in_features=12, hidden=(6, ),
                act_cfg=dict(type='Tanh')),
            head=head or dict(type='ClsHead'))).eval()


def test_flip_fused_embedding_and_norm():
    model = _build()
    x = torch.randn(3, 1, 3, 4)
    out = model.predict(x)
    e1 = model.backbone(x.flatten(1))[-1]
    e2 = model.backbone(x.flip(-1).flatten(1))[-1]
    for i, sample in enumerate(out):
        assert torch.allclose(sample.embedding, e1[i] + e2[i])
        assert torch.allclose(sample.embedding_norm,
                              (e1[i].norm() + e2[i].norm()) / 2)
    plain = _build(flip_test=False).predict(x)
    assert torch.allclose(plain[0].embedding, e1[0])


def test_sharded_centres_left_out_of_ddp(tmp_path):
    import torch.distributed as dist
    dist.init_process_group(
        'gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
        world_size=1)
    try:
        sharded = _build(
            head=dict(
                type='mmdl.CombinedMarginHead', num_classes=4,
                in_channels=6, shard=True))
        assert sharded._ddp_params_and_buffers_to_ignore == ['head.weight']
    finally:
        dist.destroy_process_group()
    plain = _build(
        head=dict(type='mmdl.CombinedMarginHead', num_classes=4,
                  in_channels=6))
    assert not getattr(plain, '_ddp_params_and_buffers_to_ignore', [])
