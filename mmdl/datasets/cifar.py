# Copyright (c) mmdl contributors. All rights reserved.
"""mmpretrain's CIFAR datasets without downloads and with an optional md5
check."""
import os.path as osp

from mmengine.fileio import join_path
from mmpretrain.datasets import CIFAR10 as _CIFAR10
from mmpretrain.datasets import CIFAR100 as _CIFAR100

from mmdl.registry import DATASETS


class _OfflineCIFARMixin:
    """Never download; optionally skip the md5 comparison.

    mmpretrain 1.2.0 always compares every file with the md5 sums of the
    original archive and downloads the archive when they differ
    (``download=True`` by default). Machines running mmdl are often offline
    and tests use miniature copies in the real format, so here nothing is
    ever downloaded (``download=True`` is an error) and
    ``verify_md5=False`` only checks that the files exist. A missing file
    is reported by name.
    """

    def __init__(self,
                 data_root: str = '',
                 *args,
                 verify_md5: bool = True,
                 **kwargs) -> None:
        if kwargs.pop('download', False):
            raise ValueError(f'{type(self).__name__}: mmdl never downloads '
                             f'data; put the python version ({self.url}) '
                             f'under {data_root!r}')
        self.verify_md5 = verify_md5
        super().__init__(data_root, *args, download=False, **kwargs)

    def _check_integrity(self) -> bool:
        root = self.data_prefix['root']
        for filename, _ in self.train_list + self.test_list:
            path = join_path(root, self.base_folder, filename)
            if not osp.exists(path):
                raise FileNotFoundError(
                    f'{type(self).__name__}: {path} does not exist (expected '
                    f'the python version of the dataset, {self.url})')
        return not self.verify_md5 or super()._check_integrity()


@DATASETS.register_module()
class CIFAR10(_OfflineCIFARMixin, _CIFAR10):
    """CIFAR-10 as in :class:`mmpretrain.datasets.CIFAR10`, offline.

    Args:
        data_root (str): Folder holding ``cifar-10-batches-py``.
        verify_md5 (bool): Compare the files with the md5 sums of the
            original archive. Defaults to True; False accepts re-created
            or miniature copies in the same format.
        **kwargs: Other arguments of mmpretrain's ``CIFAR10``.
    """


@DATASETS.register_module()
class CIFAR100(_OfflineCIFARMixin, _CIFAR100):
    """CIFAR-100 as in :class:`mmpretrain.datasets.CIFAR100`, offline.

    Args:
        data_root (str): Folder holding ``cifar-100-python``.
        verify_md5 (bool): Compare the files with the md5 sums of the
            original archive. Defaults to True; False accepts re-created
            or miniature copies in the same format.
        **kwargs: Other arguments of mmpretrain's ``CIFAR100``.
    """
