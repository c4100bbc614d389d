# Copyright (c) mmdl contributors. All rights reserved.
"""Attention maps and magnitude-versus-direction statistics of the
(Scaled) Non-Local blocks of a trained classifier.

For every :class:`~mmdl.models.ScaledNonLocal2d` in the model (any
normaliser, so the softmax baseline too):

* ``attention_<index>.png``: the attention weights of chosen query
  positions, averaged over heads, drawn over the input image (one row per
  block, one column per query, the query marked with a cross, a colour bar
  per block; :func:`mmdl.visualization.draw_attention_maps`);
* ``nonlocal_stats.json`` (also printed): over ``--num-images`` test
  images, per block,

  - ``key_norm_correlation``: Pearson correlation, across keys j, between
    the attention weights ``A_ij`` of a query and the key norms
    ``||phi_j||``, averaged over queries, heads and images. Close to 1 means
    the map is driven by key magnitude (what Cho et al. report for softmax);
  - ``row_similarity``: mean cosine similarity between the attention rows of
    different queries. Close to 1 means every query attends to the same
    keys, i.e. the map ignores the query (direction) information.

Cho et al., "Rethinking Efficacy of Softmax for Lightweight Non-Local Neural
Networks", ICIP 2022. **Reconstruction:** the paper's exact statistics are
not known; these two quantities measure the dependence on key magnitude and
on query direction that its abstract describes.

Example::

    CFG=configs/scaled_nonlocal/snl-h4_preact-resnet14_1xb32-15e_digits_quick.py
    python tools/train.py $CFG --work-dir work_dirs/snl_quick
    python tools/analysis_tools/visualize_nonlocal.py $CFG \\
        work_dirs/snl_quick/epoch_15.pth --out-dir work_dirs/snl_quick/vis
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.models import ScaledNonLocal2d
from mmdl.utils import ConfigError
from mmdl.utils.cli import friendly_errors, load_config
from mmdl.visualization import preprocessed_images, save_attention_maps


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-dir', required=True, help='output directory')
    parser.add_argument(
        '--index', type=int, default=0, help='test image to draw')
    parser.add_argument(
        '--queries',
        nargs='+',
        default=['0.25,0.25', '0.5,0.5', '0.75,0.75'],
        help='query positions as ROW,COL fractions of the feature map')
    parser.add_argument(
        '--num-images',
        type=int,
        default=64,
        help='test images used for the statistics')
    return parser.parse_args(argv)


def parse_queries(queries: Sequence[str]) -> List[tuple]:
    """Parse ``ROW,COL`` fractions in [0, 1)."""
    parsed = []
    for query in queries:
        try:
            row, col = (float(v) for v in query.split(','))
        except ValueError:
            raise ConfigError(f'--queries: {query!r} is not ROW,COL') from None
        if not (0 <= row < 1 and 0 <= col < 1):
            raise ConfigError(f'--queries: {query!r} is outside [0, 1)')
        parsed.append((row, col))
    return parsed


def flat_indices(queries: Sequence[tuple], height: int, width: int) -> list:
    """Flat feature-map indices of fractional query positions."""
    return [int(r * height) * width + int(c * width) for r, c in queries]


def key_norm_correlation(attention: torch.Tensor,
                         key_norms: torch.Tensor) -> float:
    """Mean Pearson correlation between attention rows and key norms.

    Args:
        attention (Tensor): (B, heads, Q, N) weights.
        key_norms (Tensor): (B, heads, N) norms of the keys.

    Returns:
        float: The mean over images, heads and queries (rows with zero
        variance are skipped).
    """
    a = attention - attention.mean(-1, keepdim=True)
    k = (key_norms - key_norms.mean(-1, keepdim=True)).unsqueeze(2)
    denom = a.norm(dim=-1) * k.norm(dim=-1)
    valid = denom > 1e-12
    corr = (a * k).sum(-1)[valid] / denom[valid]
    return float(corr.mean()) if corr.numel() else float('nan')


def row_similarity(attention: torch.Tensor) -> float:
    """Mean cosine similarity between different rows of each map.

    Args:
        attention (Tensor): (B, heads, Q, N) weights, Q >= 2.

    Returns:
        float: Mean over pairs of different queries, heads and images.
    """
    rows = F.normalize(attention, dim=-1)
    gram = rows @ rows.transpose(-1, -2)
    q = gram.shape[-1]
    off_diagonal = gram.sum((-1, -2)) - gram.diagonal(dim1=-2, dim2=-1).sum(-1)
    return float((off_diagonal / (q * (q - 1))).mean())


def collect_block_inputs(model, inputs) -> Dict[str, torch.Tensor]:
    """Run the model and record the input of each ScaledNonLocal2d."""
    captured: Dict[str, torch.Tensor] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, ScaledNonLocal2d):
            handles.append(
                module.register_forward_pre_hook(
                    lambda m, args, name=name: captured.__setitem__(
                        name, args[0].detach())))
    if not handles:
        raise ValueError('the model has no ScaledNonLocal2d block')
    try:
        with torch.no_grad():
            model(inputs, mode='tensor')
    finally:
        for handle in handles:
            handle.remove()
    return captured


def block_statistics(block: ScaledNonLocal2d, x: torch.Tensor) -> dict:
    """Statistics of one block on a batch of its inputs (all queries)."""
    height, width = x.shape[-2:]
    with torch.no_grad():
        attention = block.attention_maps(x, torch.arange(height * width))
        x_pe = x + block.position_encoding(x) if block.pos_enc else x
        phi = block.phi(x_pe).reshape(x.shape[0], block.num_heads,
                                      block.embed_channels, -1)
    return dict(
        key_norm_correlation=key_norm_correlation(attention, phi.norm(dim=2)),
        row_similarity=row_similarity(attention),
        normalizer=block.normalizer,
        similarity=block.similarity,
        heads=block.num_heads,
        feature_map=[int(height), int(width)])


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__)) as errors:
        queries = parse_queries(args.queries)
        cfg = errors.cfg = load_config(args.config)
        init_default_scope(cfg.get('default_scope', 'mmdl'))
        from mmengine.registry import DATASETS, MODELS
        model = MODELS.build(cfg.model)
        load_checkpoint(model, args.checkpoint, map_location='cpu')
        model.eval()
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        if not 0 <= args.index < len(dataset):
            raise ConfigError(f'--index {args.index} is outside the test set '
                              f'of {len(dataset)} images')
        count = min(args.num_images, len(dataset))
        indices = sorted({args.index, *range(count)})
        data = model.data_preprocessor(
            pseudo_collate([dataset[i] for i in indices]), False)
        inputs = data['inputs']
        block_inputs = collect_block_inputs(model, inputs)
        blocks = dict(model.named_modules())

        os.makedirs(args.out_dir, exist_ok=True)
        position = indices.index(args.index)
        maps = {}
        for name, x in block_inputs.items():
            height, width = x.shape[-2:]
            flat = torch.tensor(flat_indices(queries, height, width))
            with torch.no_grad():
                attention = blocks[name].attention_maps(
                    x[position:position + 1], flat)
            maps[name] = attention[0].mean(0).reshape(-1, height, width)
        image = preprocessed_images(inputs[position:position + 1],
                                    model.data_preprocessor)[0]
        png = osp.join(args.out_dir, f'attention_{args.index}.png')
        save_attention_maps(png, image, maps, queries)

        stats = {
            name: block_statistics(blocks[name], x)
            for name, x in block_inputs.items()
        }
        with open(osp.join(args.out_dir, 'nonlocal_stats.json'), 'w') as f:
            json.dump(dict(num_images=len(indices), blocks=stats), f, indent=2)
        print(f'attention maps: {png}')
        print(f'{"block":40s} {"normalizer":>10s} {"similarity":>10s} '
              f'{"key-norm corr":>13s} {"row cos-sim":>11s}')
        for name, s in stats.items():
            print(f'{name:40s} {s["normalizer"]:>10s} {s["similarity"]:>10s} '
                  f'{s["key_norm_correlation"]:13.3f} '
                  f'{s["row_similarity"]:11.3f}')
    return stats


if __name__ == '__main__':
    main()
