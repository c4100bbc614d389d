# Copyright (c) mmdl contributors. All rights reserved.
"""Attention maps and localisation measures of a masked-face model
(:class:`~mmdl.models.MaskedFaceRecognizer` with
:class:`~mmdl.models.ComplementaryAttention`), for one or more
checkpoints.

The config's test images (the first sub-set of a concatenation) are read
twice: as they are and with a synthetic mask on every image
(``RandomFaceMask(prob=1, seed=--seed)``, whose segmentation is known).
For every checkpoint and attended stage it writes

* ``attention_<checkpoint>_stage<i>.png``: a grid of ``--num-show``
  masked and as many unmasked faces with ``A_face``, ``A_mask`` and
  ``A_background`` drawn over them;
* ``localisation.json`` (also printed): over the first ``--num-images``
  masked images, the means of
  :func:`~mmdl.evaluation.face.localisation_measures`: ``mass_share``
  (share of ``A_face`` in the unmasked face region), ``iou`` (of
  ``A_face > 0.5`` with that region) and ``mask_iou`` (of ``A_mask >
  0.5`` with the mask). Comparing the first and the last checkpoint shows
  whether training localised the mask.

Example::

    CFG=configs/masked_face/cal-mfsa_iresnet18-w8_1xb64-10e_digits-faces_quick.py
    python tools/train.py $CFG --work-dir work_dirs/mfsa_quick
    python tools/analysis_tools/analyze_attention.py $CFG \\
        work_dirs/mfsa_quick/epoch_1.pth work_dirs/mfsa_quick/epoch_10.pth \\
        --out-dir work_dirs/mfsa_quick/attention
"""
import argparse
import copy
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.datasets.face import face_region
from mmdl.evaluation.face import localisation_measures
from mmdl.utils import ConfigError
from mmdl.utils.cli import friendly_errors, load_config
from mmdl.visualization import (preprocessed_images,
                                save_attention_overlays)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoints', nargs='+', help='checkpoint files')
    parser.add_argument('--out-dir', required=True, help='output directory')
    parser.add_argument(
        '--num-images', type=int, default=200,
        help='masked test images of the measures (default 200)')
    parser.add_argument(
        '--num-show', type=int, default=6,
        help='masked and unmasked faces drawn (default 6 of each)')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the synthetic masks')
    parser.add_argument(
        '--batch-size', type=int, default=50, help='images per forward')
    args = parser.parse_args(argv)
    if args.num_images < 1 or args.num_show < 1 or args.batch_size < 1:
        parser.error('--num-images, --num-show and --batch-size must be '
                     'positive')
    return args


def test_dataset_cfg(cfg) -> dict:
    """The test dataset config (the first of a ``ConcatDataset``) without
    its packing and any mask transform."""
    dataset = copy.deepcopy(cfg.test_dataloader.dataset)
    while 'datasets' in dataset:
        dataset = dataset['datasets'][0]
    if 'pipeline' not in dataset:
        raise ConfigError('test_dataloader.dataset has no pipeline')
    dataset['pipeline'] = [
        t for t in dataset['pipeline']
        if t['type'].split('.')[-1] not in ('PackInputs', 'RandomFaceMask')
    ]
    return dataset


def build_views(cfg, seed: int):
    """The test set plain and fully masked (with segmentations)."""
    from mmengine.registry import DATASETS
    base = test_dataset_cfg(cfg)
    pack = dict(type='mmpretrain.PackInputs', algorithm_keys=('gt_seg_map', ))
    masked, plain = copy.deepcopy(base), copy.deepcopy(base)
    masked['pipeline'] = masked['pipeline'] + [
        dict(type='mmdl.RandomFaceMask', prob=1.0, seed=seed), pack
    ]
    plain['pipeline'] = plain['pipeline'] + [
        dict(type='mmpretrain.PackInputs')
    ]
    return DATASETS.build(masked), DATASETS.build(plain)


def run_maps(model, dataset, indices: Sequence[int], batch_size: int):
    """Inputs, segmentations and per-stage attention maps of samples."""
    inputs, segs, maps = [], [], {}
    for start in range(0, len(indices), batch_size):
        batch = pseudo_collate(
            [dataset[i] for i in indices[start:start + batch_size]])
        data = model.data_preprocessor(batch, False)
        with torch.no_grad():
            stage_maps = model.attention_maps(data['inputs'])
        if not stage_maps:
            raise ConfigError('the model has no attention maps (a '
                              'MaskedFaceRecognizer with an attention neck '
                              'is needed)')
        inputs.append(data['inputs'])
        if 'gt_seg_map' in data['data_samples'][0]:
            segs += [
                torch.as_tensor(np.asarray(s.gt_seg_map))
                for s in data['data_samples']
            ]
        for stage, value in stage_maps.items():
            for name, m in value.items():
                if name != 'logits':
                    maps.setdefault(stage, {}).setdefault(name, []).append(m)
    maps = {
        s: {k: torch.cat(v)[:, 0]
            for k, v in d.items()}
        for s, d in maps.items()
    }
    return torch.cat(inputs), (torch.stack(segs) if segs else None), maps


def analyse(model, masked, plain, args, stem: str) -> Dict:
    """Measures and grids of one checkpoint."""
    count = min(args.num_images, len(masked))
    inputs, seg, maps = run_maps(model, masked, range(count), args.batch_size)
    face = torch.as_tensor(face_region(tuple(inputs.shape[-2:])))
    show = min(args.num_show, count)
    p_inputs, _, p_maps = run_maps(model, plain, range(show), args.batch_size)
    images = (preprocessed_images(inputs[:show], model.data_preprocessor) +
              preprocessed_images(p_inputs, model.data_preprocessor))
    titles = ['masked'] * show + ['unmasked'] * show
    result = {}
    for stage, stage_maps in maps.items():
        measures = localisation_measures(stage_maps['face'], seg, face,
                                         stage_maps.get('mask'))
        result[str(stage)] = dict(
            map_size=list(stage_maps['face'].shape[-2:]),
            **{k: float(v.mean())
               for k, v in measures.items()})
        png = osp.join(args.out_dir, f'attention_{stem}_stage{stage}.png')
        save_attention_overlays(
            png, images, {
                name: torch.cat([value[:show], p_maps[stage][name]])
                for name, value in stage_maps.items()
            }, titles)
        result[str(stage)]['png'] = png
    return result


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__)) as errors:
        cfg = errors.cfg = load_config(args.config)
        init_default_scope(cfg.get('default_scope', 'mmdl'))
        from mmengine.registry import MODELS
        model = MODELS.build(cfg.model)
        masked, plain = build_views(cfg, args.seed)
        os.makedirs(args.out_dir, exist_ok=True)
        report = dict(
            config=args.config,
            num_images=min(args.num_images, len(masked)),
            seed=args.seed,
            checkpoints=[])
        for path in args.checkpoints:
            if not osp.isfile(path):
                raise ConfigError(f'checkpoint {path} does not exist')
            load_checkpoint(model, path, map_location='cpu')
            model.eval()
            stem = osp.splitext(osp.basename(path))[0]
            stages = analyse(model, masked, plain, args, stem)
            report['checkpoints'].append(dict(checkpoint=path, stages=stages))
            for stage, values in stages.items():
                print(f'{stem} stage {stage}: mask_iou '
                      f'{values.get("mask_iou", float("nan")):.4f} iou '
                      f'{values["iou"]:.4f} mass_share '
                      f'{values["mass_share"]:.4f}  {values["png"]}')
        out = osp.join(args.out_dir, 'localisation.json')
        with open(out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'wrote {out}')
        return report


if __name__ == '__main__':
    main()
