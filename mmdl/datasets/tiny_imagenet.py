# Copyright (c) mmdl contributors. All rights reserved.
"""Tiny ImageNet (CS231N, Stanford) read from its original on-disk layout."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from mmpretrain.datasets import BaseDataset

from mmdl.registry import DATASETS

#: File extensions taken as images when listing a directory (lower case).
IMG_EXTENSIONS = ('.jpeg', '.jpg', '.png')


def _list_images(directory: str) -> List[str]:
    """Sorted names of the image files directly in ``directory``."""
    with os.scandir(directory) as entries:
        return sorted(
            entry.name for entry in entries
            if entry.is_file() and entry.name.lower().endswith(IMG_EXTENSIONS))


@DATASETS.register_module()
class TinyImageNet(BaseDataset):
    """Tiny ImageNet (CS231N, Stanford): 200 ImageNet classes at 64x64
    pixels, 500 training, 50 validation and 50 unlabelled test images per
    class (http://cs231n.stanford.edu/tiny-imagenet-200.zip).

    Used, among others, by the ScaledNonLocal paper (Cho et al., "Scaled
    Non-Local Blocks", ICIP 2022), which trains on random 56x56 crops.

    The dataset is read from the layout of the original archive, unpacked
    as ``data_root``:

    ::

        tiny-imagenet-200
        ├── wnids.txt          # one wnid per line; class index = line order
        ├── words.txt          # optional: wnid<TAB>names, for class names
        ├── train
        │   ├── n01443537
        │   │   ├── n01443537_boxes.txt    # not used
        │   │   └── images
        │   │       ├── n01443537_0.JPEG
        │   │       └── ...
        │   └── ...
        ├── val
        │   ├── val_annotations.txt  # filename<TAB>wnid<TAB>x0<TAB>y0<TAB>...
        │   └── images
        │       ├── val_0.JPEG
        │       └── ...
        └── test
            └── images             # no labels
                ├── test_0.JPEG
                └── ...

    Class ``i`` is the wnid on line ``i`` of ``wnids.txt`` (the file order,
    not sorted). ``classes`` in the metainfo are the names of ``words.txt``
    (e.g. ``'goldfish, Carassius auratus'``) when that file exists and lists
    the wnid, else the wnid itself; ``metainfo['wnids']`` holds the wnids.

    Samples are ``dict(img_path=..., gt_label=...)`` (no ``gt_label`` for
    ``'test'``); as with mmpretrain's ``ImageNet``, images are read by the
    pipeline (``dict(type='LoadImageFromFile')``). The order is
    deterministic: training images class by class, each class's files in
    sorted name order; validation images in the order of
    ``val_annotations.txt``; test images in sorted name order. Only the local
    file system is supported.

    Args:
        data_root (str): The ``tiny-imagenet-200`` directory.
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        metainfo (dict, optional): Overrides the metainfo read from
            ``wnids.txt``/``words.txt``. Defaults to None.
        pipeline (Sequence): Processing pipeline. Defaults to ``()``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``indices``, ``test_mode``, ``lazy_init``, ...). ``ann_file``
            and ``data_prefix`` are not used.
    """

    SPLITS = ('train', 'val', 'test')
    WNIDS_FILE = 'wnids.txt'
    WORDS_FILE = 'words.txt'
    VAL_ANNOTATIONS = osp.join('val', 'val_annotations.txt')

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'TinyImageNet: split={split!r} is not one of '
                             f'{self.SPLITS}')
        data_root = osp.expanduser(data_root)
        if not osp.isdir(data_root):
            raise FileNotFoundError(
                f'TinyImageNet: data_root {data_root!r} is not a directory; '
                'expected the unpacked tiny-imagenet-200 folder (with '
                'wnids.txt, train/, val/, test/)')
        self.split = split
        self.wnids = self._read_wnids(data_root)
        names = self._read_words(data_root, self.wnids)
        metainfo = {
            'classes': tuple(names.get(w, w) for w in self.wnids),
            'wnids': tuple(self.wnids),
            **(metainfo or {})
        }
        kwargs.setdefault('ann_file', '')
        super().__init__(
            data_root=data_root,
            metainfo=metainfo,
            pipeline=pipeline,
            **kwargs)

    @classmethod
    def _read_wnids(cls, data_root: str) -> List[str]:
        """Read ``wnids.txt``: one wnid per line, in class-index order."""
        path = osp.join(data_root, cls.WNIDS_FILE)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'TinyImageNet: {path} not found; expected a file with one '
                'wnid (class id such as n01443537) per line')
        with open(path, encoding='utf-8') as f:
            wnids = [line.strip() for line in f if line.strip()]
        if not wnids:
            raise ValueError(f'TinyImageNet: {path} lists no wnid')
        if len(set(wnids)) != len(wnids):
            dup = sorted({w for w in wnids if wnids.count(w) > 1})
            raise ValueError(f'TinyImageNet: {path} lists wnids more than '
                             f'once: {dup}')
        return wnids

    @classmethod
    def _read_words(cls, data_root: str,
                    wnids: Sequence[str]) -> Dict[str, str]:
        """Names of ``wnids`` from ``words.txt`` (empty if it is absent)."""
        path = osp.join(data_root, cls.WORDS_FILE)
        if not osp.isfile(path):
            return {}
        wanted = set(wnids)
        names = {}
        with open(path, encoding='utf-8') as f:
            for line in f:
                wnid, _, name = line.rstrip('\r\n').partition('\t')
                if wnid in wanted and name.strip():
                    names[wnid] = name.strip()
        return names

    def load_data_list(self) -> List[dict]:
        """List the images of the split.

        Returns:
            list[dict]: One dict per image with ``img_path`` and, except for
            the ``'test'`` split, ``gt_label`` (int).
        """
        if self.split == 'train':
            return self._load_train()
        if self.split == 'val':
            return self._load_val()
        image_dir = self._image_dir(osp.join(self.data_root, 'test'))
        return [
            dict(img_path=osp.join(image_dir, name))
            for name in _list_images(image_dir)
        ]

    @staticmethod
    def _image_dir(split_dir: str) -> str:
        """``<split_dir>/images``, which must exist."""
        image_dir = osp.join(split_dir, 'images')
        if not osp.isdir(image_dir):
            raise FileNotFoundError(
                f'TinyImageNet: directory {image_dir} not found; expected '
                'the images of the split in it')
        return image_dir

    def _load_train(self) -> List[dict]:
        data_list = []
        train_dir = osp.join(self.data_root, 'train')
        for label, wnid in enumerate(self.wnids):
            class_dir = osp.join(train_dir, wnid)
            if not osp.isdir(class_dir):
                raise FileNotFoundError(
                    f'TinyImageNet: training directory {class_dir} not '
                    f'found for wnid {wnid!r} (line {label + 1} of '
                    f'{self.WNIDS_FILE}); expected train/<wnid>/images/')
            image_dir = self._image_dir(class_dir)
            data_list.extend(
                dict(img_path=osp.join(image_dir, name), gt_label=label)
                for name in _list_images(image_dir))
        return data_list

    def _read_val_annotations(self) -> List[Tuple[str, str, int]]:
        """(file name, wnid, line number) of each line of
        ``val_annotations.txt``, in file order."""
        path = osp.join(self.data_root, self.VAL_ANNOTATIONS)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'TinyImageNet: {path} not found; expected lines '
                'filename<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1')
        rows = []
        with open(path, encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip('\r\n')
                if not line.strip():
                    continue
                fields = line.split('\t')
                if len(fields) < 2:
                    raise ValueError(
                        f'TinyImageNet: {path} line {lineno}: expected at '
                        'least 2 tab-separated fields (filename, wnid, '
                        f'x0, y0, x1, y1), got {len(fields)}: {line!r}')
                rows.append((fields[0].strip(), fields[1].strip(), lineno))
        return rows

    def _load_val(self) -> List[dict]:
        path = osp.join(self.data_root, self.VAL_ANNOTATIONS)
        rows = self._read_val_annotations()
        image_dir = self._image_dir(osp.join(self.data_root, 'val'))
        present = set(_list_images(image_dir))
        labels = {wnid: i for i, wnid in enumerate(self.wnids)}
        data_list = []
        for name, wnid, lineno in rows:
            if wnid not in labels:
                raise ValueError(
                    f'TinyImageNet: {path} line {lineno}: wnid {wnid!r} is '
                    f'not in {osp.join(self.data_root, self.WNIDS_FILE)}')
            if name not in present:
                raise FileNotFoundError(
                    f'TinyImageNet: {path} line {lineno}: image {name!r} '
                    f'not found in {image_dir}')
            data_list.append(
                dict(
                    img_path=osp.join(image_dir, name), gt_label=labels[wnid]))
        return data_list

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return [
            f'Split: \t{self.split}', f'Root of dataset: \t{self.data_root}'
        ]
