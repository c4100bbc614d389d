# Copyright (c) mmdl contributors. All rights reserved.
"""IJBVerificationMetric: IJB-B/C 1:1 template verification."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdl.evaluation.face.ijb import FAR_TARGETS, evaluate_ijb
from mmdl.registry import METRICS


def ijb_meta(data_root: str, target: str) -> Dict[str, np.ndarray]:
    """Templates, medias and faceness scores of the suite's images, in the
    order of ``<t>_name_5pts_score.txt`` (the order of feature files)."""
    # imported here: loading the metrics must not load the datasets
    from mmdl.datasets.face.ijb import meta_file, read_columns
    columns = read_columns(meta_file(data_root, target, 'name_5pts_score'),
                           12)
    _, tids, mids = read_columns(
        meta_file(data_root, target, 'face_tid_mid'), 3)
    return dict(
        templates=tids.astype(np.int64),
        medias=mids.astype(np.int64),
        faceness=np.array(columns[11], dtype=np.float32))


def write_roc(out_dir: str, name: str, result: Dict) -> None:
    """``<name>_roc.json`` (TAR table, AUC and the ROC sampled at 1,000
    log-spaced FARs) and ``<name>_roc.png`` in ``out_dir``."""
    from mmdl.visualization import sample_roc, save_roc_curves
    os.makedirs(out_dir, exist_ok=True)
    curve = sample_roc(result['roc']['fpr'], result['roc']['tpr'])
    with open(osp.join(out_dir, f'{name}_roc.json'), 'w') as f:
        json.dump(
            dict(
                tar={f'{k:g}': v
                     for k, v in result['tar'].items()},
                auc=result['auc'],
                roc=curve),
            f,
            indent=1)
    save_roc_curves(
        osp.join(out_dir, f'{name}_roc.png'),
        {f'{name} (AUC {100 * result["auc"]:.2f}%)': (curve['fpr'],
                                                       curve['tpr'])},
        title=f'ROC on {name}')


def evaluate_feature_file(path: str,
                          data_root: str,
                          target: str = 'IJBC',
                          halves: bool = False,
                          normalise: bool = False,
                          use_faceness: bool = True,
                          targets: Sequence[float] = FAR_TARGETS,
                          progress: bool = True) -> Dict:
    """Score image features computed elsewhere.

    Args:
        path (str): A ``.npy`` file of ``[N, D]`` features in the order of
            ``<t>_name_5pts_score.txt`` (``halves=True``: ``[N, 2D]``, the
            original image's and the flip's features side by side, as
            insightface's script stores them; they are summed, "F2").
        data_root (str): The IJB suite (its ``meta`` folder).
        target (str): ``'IJBC'`` or ``'IJBB'``.
        halves (bool): See ``path``.
        normalise (bool): L2-normalise image features first (N0).
        use_faceness (bool): Weight by the faceness score (D1).
        targets (Sequence[float]): FARs of the table.
        progress (bool): Progress bar over the scoring.

    Returns:
        dict: As :func:`~mmdl.evaluation.face.evaluate_ijb`.
    """
    from mmdl.datasets.face.ijb import read_pairs
    if not osp.isfile(path):
        raise FileNotFoundError(f'feature file {path} does not exist')
    features = np.load(path, mmap_mode='r')
    if halves:
        if features.shape[1] % 2:
            raise ValueError(f'{path}: --halves needs an even feature '
                             f'width, got {features.shape[1]}')
        half = features.shape[1] // 2
        features = np.asarray(features[:, :half]) + features[:, half:]
    meta = ijb_meta(data_root, target)
    if len(features) != len(meta['templates']):
        raise ValueError(f'{path} has {len(features)} features, the '
                         f'{target} meta files list '
                         f'{len(meta["templates"])} images')
    return evaluate_ijb(
        np.array(features, dtype=np.float32),
        meta['templates'],
        meta['medias'],
        read_pairs(data_root, target),
        meta['faceness'] if use_faceness else None,
        normalise,
        targets,
        progress=progress)


@METRICS.register_module()
class IJBVerificationMetric(BaseMetric):
    """IJB-B / IJB-C 1:1 verification as insightface's ``eval_ijbc.py``
    computes it (see :mod:`mmdl.evaluation.face.ijb`).

    Expects the samples of :class:`~mmdl.datasets.IJBDataset`
    (``template_id``, ``media_id``, ``faceness``) and the ``embedding`` of
    :class:`~mmdl.models.FaceRecognizer` (with ``flip_test``: original +
    flip, insightface's default "F2"). Results, under
    ``ijb/<target>/``: ``tar@far=1e-06`` ... ``tar@far=0.1`` (%, the ROC
    point with the nearest FAR) and ``auc`` (%).

    Args:
        data_root (str): The suite (for the pairs file).
        target (str): ``'IJBC'`` or ``'IJBB'``. Defaults to ``'IJBC'``.
        far_targets (Sequence[float]): FARs of the table.
        normalise (bool): L2-normalise image features before aggregation
            (N0; default N1 keeps the norm).
        use_faceness (bool): Weight image features by the faceness score
            (D1, default; False: D0).
        save_features (str, optional): Write the image features (``.npy``,
            the meta files' order) here, to score them again with
            ``tools/analysis_tools/eval_ijb.py``.
        out_dir (str, optional): Write the ROC as JSON and PNG here.
        progress (bool): Progress bar over the scoring. Defaults to True.
        collect_device (str): Where results are gathered.
        prefix (str, optional): Key prefix. Defaults to ``'ijb'``.
    """

    default_prefix = 'ijb'

    def __init__(self,
                 data_root: str,
                 target: str = 'IJBC',
                 far_targets: Sequence[float] = FAR_TARGETS,
                 normalise: bool = False,
                 use_faceness: bool = True,
                 save_features: Optional[str] = None,
                 out_dir: Optional[str] = None,
                 progress: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if target not in ('IJBB', 'IJBC'):
            raise ValueError(f"IJBVerificationMetric: target must be 'IJBB' "
                             f"or 'IJBC', got {target!r}")
        self.data_root = data_root
        self.target = target
        self.far_targets = tuple(far_targets)
        self.normalise = normalise
        self.use_faceness = use_faceness
        self.save_features = save_features
        self.out_dir = out_dir
        self.progress = progress

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep every image's feature with its template, media and score."""
        for sample in data_samples:
            missing = [
                k for k in ('embedding', 'template_id', 'media_id',
                            'faceness') if k not in sample
            ]
            if missing:
                raise KeyError(
                    f'IJBVerificationMetric: a sample lacks {missing}; use '
                    'IJBDataset (meta keys template_id, media_id, faceness '
                    'in PackInputs) and FaceRecognizer')
            self.results.append(
                dict(
                    index=int(sample['sample_idx']),
                    embedding=sample['embedding'].float().cpu().numpy(),
                    template=int(sample['template_id']),
                    media=int(sample['media_id']),
                    faceness=float(sample['faceness'])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Aggregate, score and read the ROC."""
        from mmdl.datasets.face.ijb import read_pairs
        results.sort(key=lambda r: r['index'])
        features = np.stack([r['embedding'] for r in results])
        if self.save_features:
            os.makedirs(
                osp.dirname(osp.abspath(self.save_features)), exist_ok=True)
            np.save(self.save_features, features)
        result = evaluate_ijb(
            features, [r['template'] for r in results],
            [r['media'] for r in results],
            read_pairs(self.data_root, self.target),
            [r['faceness'] for r in results] if self.use_faceness else None,
            self.normalise,
            self.far_targets,
            progress=self.progress)
        if self.out_dir:
            write_roc(self.out_dir, self.target.lower(), result)
            print_log(f'IJB ROC written to {self.out_dir}', logger='current')
        metrics = {
            f'{self.target}/tar@far={far:g}': 100 * tar
            for far, tar in result['tar'].items()
        }
        metrics[f'{self.target}/auc'] = 100 * result['auc']
        return metrics
