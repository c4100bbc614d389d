# Copyright (c) mmdl contributors. All rights reserved.
"""BinVerificationMetric: insightface's 10-fold protocol on ``.bin``
verification sets."""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmdl.evaluation.face.verification import verification_metrics
from mmdl.registry import METRICS


@METRICS.register_module()
class BinVerificationMetric(BaseMetric):
    """Face verification accuracy on ``.bin`` sets (LFW, CFP-FP, AgeDB-30,
    CALFW, CPLFW), as insightface's ``verification.py`` measures it.

    Expects the samples of :class:`~mmdl.datasets.BinVerificationDataset`
    (several sets may be concatenated; they are told apart by their
    ``dataset_name``) and the ``embedding`` and ``embedding_norm`` of
    :class:`~mmdl.models.FaceRecognizer` (with ``flip_test``, the sum of the
    image's and its flip's embeddings). Per set, the embeddings are
    L2-normalised and paired back; the results are, under
    ``verification/<set>/``:

    * ``accuracy`` and ``accuracy_std`` (%): mean and std of the 10 fold
      accuracies, each fold's threshold chosen on the 9 others;
    * ``tar@far=1e-3`` and ``tar_std`` (%), ``far`` (%): VAL@FAR;
    * ``threshold``: the mean chosen squared-distance threshold;
    * ``xnorm``: the mean norm of the un-normalised embeddings.

    Args:
        num_folds (int): Folds. Defaults to 10.
        far_target (float): FAR of the TAR. Defaults to 1e-3.
        collect_device (str): Where results are gathered. Defaults to
            ``'cpu'``.
        prefix (str, optional): Key prefix. Defaults to
            ``'verification'``.
    """

    default_prefix = 'verification'

    def __init__(self,
                 num_folds: int = 10,
                 far_target: float = 1e-3,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_folds = num_folds
        self.far_target = far_target

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep every image's embedding with its set, pair and position."""
        for sample in data_samples:
            for key in ('embedding', 'pair_index', 'issame'):
                if key not in sample:
                    raise KeyError(
                        f'BinVerificationMetric: a sample has no {key!r}; '
                        'use BinVerificationDataset (meta keys pair_index, '
                        'issame, dataset_name in PackInputs) and '
                        'FaceRecognizer')
            embedding = sample['embedding']
            self.results.append(
                dict(
                    name=sample.get('dataset_name', 'bin'),
                    index=int(sample['sample_idx']),
                    pair=int(sample['pair_index']),
                    issame=bool(sample['issame']),
                    embedding=embedding.float().cpu().numpy(),
                    norm=float(sample.get('embedding_norm',
                                          embedding.norm()))))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """The protocol per set."""
        by_set = defaultdict(list)
        for result in results:
            by_set[result['name']].append(result)
        metrics = {}
        for name, items in by_set.items():
            items.sort(key=lambda r: r['index'])
            pairs = [r['pair'] for r in items]
            if pairs != [i // 2 for i in range(len(items))]:
                raise ValueError(
                    f'BinVerificationMetric: the images of {name!r} do not '
                    'come as complete pairs in order; evaluate the whole '
                    'set with an unshuffled sampler')
            embeddings = np.stack([r['embedding'] for r in items
                                   ]).astype(np.float64)
            norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
            embeddings = embeddings / np.maximum(norms, 1e-12)
            issame = [r['issame'] for r in items[0::2]]
            values = verification_metrics(embeddings, issame, self.num_folds,
                                          self.far_target)
            metrics.update({
                f'{name}/accuracy': 100 * values['accuracy'],
                f'{name}/accuracy_std': 100 * values['accuracy_std'],
                f'{name}/tar@far={self.far_target:g}': 100 * values['val'],
                f'{name}/tar_std': 100 * values['val_std'],
                f'{name}/far': 100 * values['far'],
                f'{name}/threshold': values['threshold'],
                f'{name}/xnorm': float(np.mean([r['norm'] for r in items])),
            })
        return metrics
