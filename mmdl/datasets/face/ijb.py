# Copyright (c) mmdl contributors. All rights reserved.
"""The IJB-B / IJB-C 1:1 verification test suite (insightface's layout)."""
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
from mmengine.dataset import BaseDataset

from mmdl.registry import DATASETS

TARGETS = ('IJBB', 'IJBC')


def meta_file(data_root: str, target: str, kind: str) -> str:
    """``<data_root>/meta/<t>_<kind>.txt`` with ``t`` = ``ijbb``/``ijbc``."""
    return osp.join(data_root, 'meta', f'{target.lower()}_{kind}.txt')


def read_columns(path: str, columns: int) -> List[np.ndarray]:
    """The columns of a space-separated text file without header (all as
    strings first, then converted by the caller), read in one pass.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: A line has another number of fields.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'IJB meta file {path} does not exist')
    with open(path, 'rb') as f:
        lines = f.read().splitlines()
    lines = [line for line in lines if line.strip()]
    fields = [line.split() for line in lines]
    bad = next((i for i, f in enumerate(fields) if len(f) != columns), None)
    if bad is not None:
        raise ValueError(f'{path}: line {bad + 1} has {len(fields[bad])} '
                         f'fields, expected {columns}')
    table = np.array(fields, dtype=object).reshape(len(fields), columns)
    return [table[:, i] for i in range(columns)]


def read_pairs(data_root: str,
               target: str) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(template 1, template 2, label)`` of
    ``<t>_template_pair_label.txt``, parsed as integers in one pass (IJB-C:
    15,658,489 lines)."""
    path = meta_file(data_root, target, 'template_pair_label')
    if not osp.isfile(path):
        raise FileNotFoundError(f'IJB meta file {path} does not exist')
    with open(path, 'rb') as f:
        values = f.read().split()
    try:
        table = np.array(values, dtype=np.int64)
    except ValueError:
        raise ValueError(f'{path}: expected integers "t1 t2 label" on '
                         'every line') from None
    if len(table) % 3:
        raise ValueError(f'{path}: expected 3 integers per line')
    table = table.reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2]


@DATASETS.register_module()
class IJBDataset(BaseDataset):
    """The images of IJB-B or IJB-C for 1:1 template verification, as
    insightface's test suite lays them out::

        data_root/
            loose_crop/<image name>
            meta/<t>_name_5pts_score.txt     name, 5 (x, y) landmarks, score
            meta/<t>_face_tid_mid.txt        name, template id, media id
            meta/<t>_template_pair_label.txt t1, t2, label (1 genuine)

    Samples carry ``landmarks`` (for :class:`~mmdl.datasets.FaceAlign`),
    ``faceness``, ``template_id``, ``media_id`` and ``probe`` (True for the
    images of templates in the second column of
    ``<t>_template_pair_label.txt``, read here with :func:`read_pairs`, a
    few seconds for IJB-C; a template in both columns counts as a probe);
    the pairs are read by :class:`~mmdl.evaluation.IJBVerificationMetric`.
    Masked IJB-C masks the probe side: after ``FaceAlign`` add
    ``dict(type='mmdl.RandomFaceMask', prob=1.0, condition_key='probe',
    seed=0, landmarks_key=None)`` (``FaceAlign`` leaves ``landmarks`` in
    the loose crop's frame, so the aligned crop uses the template). Keep
    the sampler unshuffled.

    Args:
        data_root (str): The suite's folder.
        target (str): ``'IJBC'`` or ``'IJBB'``. Defaults to ``'IJBC'``.
        image_folder (str): Folder of the images. Defaults to
            ``'loose_crop'``.
        pipeline (Sequence): Transforms, e.g. ``LoadImageFromFile``,
            ``FaceAlign``, ``PackInputs`` with the meta keys above.
        **kwargs: Other arguments of mmengine's ``BaseDataset``.
    """

    def __init__(self,
                 data_root: str,
                 target: str = 'IJBC',
                 image_folder: str = 'loose_crop',
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        if target not in TARGETS:
            raise ValueError(f'IJBDataset: target must be one of {TARGETS}, '
                             f'got {target!r}')
        self.target = target
        self.image_folder = image_folder
        kwargs.setdefault('test_mode', True)
        super().__init__(data_root=data_root, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One entry per line of ``<t>_name_5pts_score.txt``, with the
        template and media of the same line of ``<t>_face_tid_mid.txt`` and
        whether the template is a probe (second column of the pairs)."""
        landmark_file = meta_file(self.data_root, self.target,
                                  'name_5pts_score')
        columns = read_columns(landmark_file, 12)
        names = columns[0]
        points = np.array(np.stack(columns[1:11], 1), dtype=np.float32)
        faceness = np.array(columns[11], dtype=np.float32)
        tid_file = meta_file(self.data_root, self.target, 'face_tid_mid')
        tid_names, tids, mids = read_columns(tid_file, 3)
        if len(tid_names) != len(names):
            raise ValueError(f'{tid_file} lists {len(tid_names)} images, '
                             f'{landmark_file} {len(names)}')
        mismatch = np.flatnonzero(tid_names != names)
        if len(mismatch):
            i = int(mismatch[0])
            raise ValueError(f'{tid_file} and {landmark_file} disagree on '
                             f'line {i + 1}: {tid_names[i]!r} against '
                             f'{names[i]!r}')
        root = osp.join(self.data_root, self.image_folder)
        tids = tids.astype(np.int64)
        mids = mids.astype(np.int64)
        _, probe_templates, _ = read_pairs(self.data_root, self.target)
        probe = np.isin(tids, np.unique(probe_templates))
        return [
            dict(
                img_path=osp.join(root, name.decode()),
                landmarks=points[i].reshape(5, 2),
                faceness=float(faceness[i]),
                template_id=int(tids[i]),
                media_id=int(mids[i]),
                probe=bool(probe[i])) for i, name in enumerate(names)
        ]
