# Copyright (c) mmdl contributors. All rights reserved.
"""Between the datasets' uint8 images and the attack's ``[0, 1]`` tensors.

The task datasets give images as uint8 arrays of shape ``(H, W)`` (grey) or
``(H, W, C)``, which mmpretrain's ``PackInputs`` turns into ``(C, H, W)``
tensors; the attack works on ``(N, C, H, W)`` floats in ``[0, 1]`` (the
uint8 value divided by 255). :func:`quantise_poison` brings a poisoned
float image back to uint8 within the budget.
"""
import math
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor


def images_to_tensor(images: np.ndarray,
                     dtype: torch.dtype = torch.float32) -> Tensor:
    """A stack of uint8 images as ``(N, C, H, W)`` in ``[0, 1]``.

    Args:
        images (np.ndarray): uint8, ``(N, H, W)`` or ``(N, H, W, C)``.
        dtype (torch.dtype): Result dtype. Defaults to float32.

    Returns:
        Tensor: ``images / 255`` with the channels first.
    """
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError('expected uint8 images of shape (N, H, W) or (N, '
                         f'H, W, C), got {images.dtype} {images.shape}')
    x = torch.from_numpy(np.ascontiguousarray(images)).to(dtype) / 255.0
    return x.unsqueeze(1) if images.ndim == 3 else x.permute(0, 3, 1, 2)


def tensor_to_float_images(x: Tensor, image_shape: Tuple[int,
                                                         ...]) -> np.ndarray:
    """``(N, C, H, W)`` back to the dataset layout ``(N, *image_shape)``
    (floats, still in ``[0, 1]``)."""
    x = x.detach().cpu()
    if len(image_shape) == 2:
        return x[:, 0].numpy()
    return x.permute(0, 2, 3, 1).numpy()


def budget_levels(eps: float) -> int:
    """The largest change in uint8 levels within ``eps``:
    ``floor(255 eps)`` (up to float rounding)."""
    return int(math.floor(255.0 * float(eps) + 1e-6))


def quantise_poison(clean: np.ndarray,
                    poisoned: np.ndarray,
                    eps: float,
                    mask: Optional[np.ndarray] = None) -> np.ndarray:
    """Round poisoned ``[0, 1]`` images to uint8 within the budget.

    ``rint(255 x)`` can exceed the budget by half a level when ``255 eps``
    is not an integer, so the result is clipped again to ``|x_q - clean|
    <= floor(255 eps)`` (:func:`budget_levels`) and to ``[0, 255]``.
    Samples outside ``mask`` are the clean arrays, bit for bit.

    Args:
        clean (np.ndarray): The clean uint8 images, ``(N, ...)``.
        poisoned (np.ndarray): The poisoned images in ``[0, 1]``, same
            shape.
        eps (float): The budget in ``[0, 1]`` pixel space.
        mask (np.ndarray, optional): ``(N, )`` bool, the poisoned samples.
            Defaults to all.

    Returns:
        np.ndarray: uint8 images of the shape of ``clean``.
    """
    if clean.dtype != np.uint8 or clean.shape != poisoned.shape:
        raise ValueError('quantise_poison: expected uint8 clean images and '
                         'poisoned images of the same shape, got '
                         f'{clean.dtype} {clean.shape} and '
                         f'{poisoned.shape}')
    levels = budget_levels(eps)
    base = clean.astype(np.int16)
    q = np.rint(np.asarray(poisoned, dtype=np.float64) * 255.0)
    q = np.clip(q, base - levels, base + levels)
    q = np.clip(q, 0, 255).astype(np.uint8)
    if mask is not None:
        keep = ~np.asarray(mask, dtype=bool)
        q[keep] = clean[keep]
    return q
