# Copyright (c) mmdl contributors. All rights reserved.
"""Image content shared by the miniature writers: real JPEG files of a
colour per class plus noise, and random boxes."""
from typing import Callable, List

import numpy as np
from PIL import Image


def write_jpeg(path: str, img: np.ndarray) -> None:
    """Write an HxW (grey) or HxWx3 (RGB) uint8 array as a JPEG file.

    Args:
        path (str): The file to write.
        img (np.ndarray): The image, uint8.
    """
    Image.fromarray(img).save(path, format='JPEG', quality=90)


def random_box(rng: np.random.Generator, size: int) -> List[int]:
    """A random box ``[x0, y0, x1, y1]`` inside a ``size`` x ``size``
    image, with ``x0 < x1`` and ``y0 < y1``.

    Args:
        rng (np.random.Generator): The random numbers.
        size (int): Image side in pixels.

    Returns:
        list[int]: ``[x0, y0, x1, y1]``.
    """
    x0, x1 = sorted(rng.choice(size, 2, replace=False).tolist())
    y0, y1 = sorted(rng.choice(size, 2, replace=False).tolist())
    return [x0, y0, x1, y1]


def class_images(rng: np.random.Generator, num_classes: int,
                 image_size: int) -> Callable[[int], np.ndarray]:
    """A function ``image(label)`` that draws an RGB image: a random colour
    per class (drawn here) plus uniform noise in ``[-40, 40]`` (drawn at
    every call), clipped to uint8.

    Args:
        rng (np.random.Generator): The random numbers.
        num_classes (int): Number of classes.
        image_size (int): Image side in pixels.

    Returns:
        Callable[[int], np.ndarray]: ``image(label)``, an
        ``image_size`` x ``image_size`` x 3 uint8 array.
    """
    colours = rng.integers(0, 256, (num_classes, 3))

    def image(label: int) -> np.ndarray:
        noise = rng.integers(-40, 41, (image_size, image_size, 3))
        return np.clip(colours[label] + noise, 0, 255).astype(np.uint8)

    return image
