# Copyright (c) mmdl contributors. All rights reserved.
"""What the task sequences share: the ``task_id`` check, the per-task image
maps (pixel permutation, rotation) and the mixin that applies a map to the
stack of all images of a dataset.

Every sample dict of a task dataset carries ``task_id`` (int); keep it
through the pipeline with
``dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])``, which
sets ``data_sample.task_id``. ``metainfo['task_id']`` holds it as well.
"""
from typing import List, Optional

import numpy as np

#: Images rotated at once by :func:`rotate_images` (bounds the memory).
ROTATION_CHUNK = 8192


def check_task_id(owner: str,
                  task_id: int,
                  num_tasks: Optional[int] = None) -> int:
    """Check that ``task_id`` is an int in ``[0, num_tasks)``.

    Args:
        owner (str): Name for the error message (the dataset class).
        task_id (int): The task index to check.
        num_tasks (int, optional): Number of tasks. Defaults to None (no
            upper bound).

    Returns:
        int: ``task_id`` as a Python int.
    """
    is_int = isinstance(task_id, (int, np.integer))
    if is_int and not isinstance(task_id, bool) and 0 <= task_id and (
            num_tasks is None or task_id < num_tasks):
        return int(task_id)
    bound = '' if num_tasks is None else f' and < {num_tasks}'
    raise ValueError(f'{owner}: task_id must be an int >= 0{bound}, got '
                     f'{task_id!r}')


def task_permutation(task_id: int,
                     num_pixels: int,
                     seed_base: int = 0) -> np.ndarray:
    """The pixel permutation of task ``task_id``.

    Task 0 is the identity; task ``t >= 1`` is
    ``np.random.default_rng(seed_base + t).permutation(num_pixels)``, so a
    task's permutation depends only on ``t`` (and ``seed_base``), never on
    the split, the process or the order in which tasks are built.

    Args:
        task_id (int): Index of the task, ``>= 0``.
        num_pixels (int): Pixels per image, ``H * W``.
        seed_base (int): Offset of the seeds. Defaults to 0.

    Returns:
        np.ndarray: int64 array of shape (num_pixels, ).
    """
    if task_id < 0:
        raise ValueError(f'task_id must be >= 0, got {task_id}')
    if task_id == 0:
        return np.arange(num_pixels, dtype=np.int64)
    rng = np.random.default_rng(seed_base + task_id)
    return rng.permutation(num_pixels).astype(np.int64)


def permute_pixels(images: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Shuffle the pixels of a stack of images, all with one permutation.

    Pixel ``i`` of each flattened (row-major) result is pixel
    ``permutation[i]`` of the original; channels (trailing axes) move with
    their pixel.

    Args:
        images (np.ndarray): Array of shape (N, H, W) or (N, H, W, C).
        permutation (np.ndarray): Permutation of ``range(H * W)``.

    Returns:
        np.ndarray: A new array of the shape and dtype of ``images``.
    """
    n, h, w = images.shape[:3]
    if len(permutation) != h * w:
        raise ValueError(f'a permutation of {len(permutation)} pixels does '
                         f'not fit images of {h}x{w} pixels')
    flat = images.reshape(n, h * w, *images.shape[3:])
    return np.ascontiguousarray(flat[:, permutation].reshape(images.shape))


def rotate_images(images: np.ndarray, angle: float) -> np.ndarray:
    """Rotate a stack of images by one angle with torchvision's ``rotate``.

    The rotation is counter-clockwise as displayed (row 0 at the top; the
    convention of ``np.rot90``) about the image centre, keeps the size,
    samples bilinearly in float32 and is 0 outside the original image
    (``torchvision.transforms.functional.rotate`` with ``fill=None``; a
    fill of 0 would also darken the border pixels by the sampled mask).
    Multiples of 90 degrees on square images are exact permutations of the
    pixels; an angle of 0 returns an unchanged copy. Integer images are
    rounded (half to even) and clipped back to their dtype.

    Args:
        images (np.ndarray): Array of shape (N, H, W) or (N, H, W, C).
        angle (float): Angle in degrees.

    Returns:
        np.ndarray: A new array of the shape and dtype of ``images``.
    """
    import torch
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms.functional import rotate
    if float(angle) % 360.0 == 0.0:
        return images.copy()
    n, h, w = images.shape[:3]
    stack = np.ascontiguousarray(images).reshape(n, h, w, -1)
    result = np.empty_like(stack)
    for start in range(0, n, ROTATION_CHUNK):
        part = torch.from_numpy(stack[start:start + ROTATION_CHUNK]).permute(
            0, 3, 1, 2).to(torch.float32)
        rotated = rotate(
            part, float(angle), interpolation=InterpolationMode.BILINEAR)
        rotated = rotated.permute(0, 2, 3, 1).numpy()
        if np.issubdtype(images.dtype, np.integer):
            info = np.iinfo(images.dtype)
            rotated = np.clip(np.rint(rotated), info.min, info.max)
        result[start:start + ROTATION_CHUNK] = rotated
    return result.reshape(images.shape)


class TaskImagesMixin:
    """Tag every sample with ``task_id`` after mapping the stack of all
    images at once with :meth:`transform_images`.

    Put it before a dataset class whose ``load_data_list`` returns dicts
    with ``img`` arrays of one shape, and call :meth:`_init_task` before
    the dataset's ``__init__``; subclasses override
    :meth:`transform_images`.
    """

    def _init_task(self, task_id: int, metainfo: Optional[dict]) -> dict:
        """Check and store ``task_id``; return the metainfo to use."""
        self.task_id = check_task_id(type(self).__name__, task_id)
        return {**(metainfo or {}), 'task_id': self.task_id}

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """Map the (N, H, W[, C]) stack of the task's images."""
        return images

    def load_data_list(self) -> List[dict]:
        """Load the images, transform them and tag them with ``task_id``.

        Returns:
            list[dict]: The samples of the base dataset with transformed
            ``img`` and ``task_id`` (int).
        """
        data_list = super().load_data_list()
        if not data_list:
            return data_list
        images = self.transform_images(
            np.stack([info['img'] for info in data_list]))
        for info, img in zip(data_list, images):
            info['img'] = img
            info['task_id'] = self.task_id
        return data_list
