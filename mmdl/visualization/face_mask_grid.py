# Copyright (c) mmdl contributors. All rights reserved.
"""A grid of (synthetically masked) faces, each optionally outlined with
its mask segmentation, and a cartoon face to mask for demos."""
import os
import os.path as osp
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

#: Colour (BGR) of the segmentation outlines: yellow.
CONTOUR_COLOR = (0, 255, 255)


def _to_bgr(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError('images: expected uint8 images, got '
                         f'{image.dtype}')
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    raise ValueError('images: expected (H, W) or (H, W, 1 | 3) images, got '
                     f'shape {image.shape}')


def face_mask_grid(
        images: Sequence[np.ndarray],
        segs: Optional[Sequence[Optional[np.ndarray]]] = None,
        ncols: int = 8,
        out_file: Optional[str] = None,
        cell_size: Optional[Tuple[int, int]] = None,
        pad: int = 2,
        background: Tuple[int, int, int] = (255, 255, 255),
        contour_color: Tuple[int, int, int] = CONTOUR_COLOR) -> np.ndarray:
    """Tile images (BGR, as OpenMMLab pipelines hold them) into a grid,
    row-major, ``pad`` pixels between and around the cells, and draw the
    outline of each segmentation (``seg > 0``, e.g. the ``gt_seg_map`` of
    :class:`~mmdl.datasets.RandomFaceMask`) over its image.

    The grid is ``rows * (h + pad) + pad`` by ``ncols' * (w + pad) + pad``
    pixels, ``ncols' = min(ncols, len(images))``, ``rows`` the rows needed,
    ``(h, w)`` the cell size.

    Args:
        images (Sequence[np.ndarray]): uint8 ``(H, W)`` or ``(H, W, 3)``
            BGR images.
        segs (Sequence[np.ndarray | None], optional): One ``(H, W)`` map
            (or None) per image. Defaults to None (no outlines).
        ncols (int): Columns. Defaults to 8.
        out_file (str, optional): PNG file to write (folders are made).
            Defaults to None.
        cell_size (tuple[int, int], optional): ``(h, w)`` every image (and
            map, nearest) is resized to. Defaults to the first image's size;
            then all images must have it.
        pad (int): Pixels between cells. Defaults to 2.
        background (tuple[int, int, int]): BGR colour of the padding.
            Defaults to white.
        contour_color (tuple[int, int, int]): BGR colour of the outlines.
            Defaults to yellow.

    Returns:
        np.ndarray: The uint8 BGR grid.
    """
    images = [_to_bgr(img) for img in images]
    if not images:
        raise ValueError('images: expected at least one image')
    if ncols < 1 or pad < 0:
        raise ValueError(f'ncols must be >= 1 and pad >= 0, got ncols='
                         f'{ncols}, pad={pad}')
    if segs is not None and len(segs) != len(images):
        raise ValueError(f'segs: expected one map per image ({len(images)}),'
                         f' got {len(segs)}')
    h, w = tuple(cell_size) if cell_size is not None else images[0].shape[:2]
    cols = min(ncols, len(images))
    rows = -(-len(images) // cols)
    grid = np.empty((rows * (h + pad) + pad, cols * (w + pad) + pad, 3),
                    dtype=np.uint8)
    grid[:] = background
    for i, img in enumerate(images):
        seg = None if segs is None else segs[i]
        if img.shape[:2] != (h, w):
            if cell_size is None:
                raise ValueError(f'images: image {i} is {img.shape[:2]}, the '
                                 f'first {(h, w)}; pass cell_size to resize')
            img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
        else:
            img = img.copy()
        if seg is not None:
            seg = (np.asarray(seg) > 0).astype(np.uint8)
            if seg.shape != images[i].shape[:2]:
                raise ValueError(f'segs: map {i} is {seg.shape}, its image '
                                 f'{images[i].shape[:2]}')
            if seg.shape != (h, w):
                seg = cv2.resize(seg, (w, h), interpolation=cv2.INTER_NEAREST)
            contours, _ = cv2.findContours(seg, cv2.RETR_EXTERNAL,
                                           cv2.CHAIN_APPROX_NONE)
            cv2.drawContours(img, contours, -1, contour_color, 1)
        r, c = divmod(i, cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        grid[top:top + h, left:left + w] = img
    if out_file is not None:
        folder = osp.dirname(osp.abspath(out_file))
        os.makedirs(folder, exist_ok=True)
        if not cv2.imwrite(out_file, grid):
            raise OSError(f'could not write {out_file}')
    return grid


def synthetic_face(
    rng: np.random.Generator, image_size: Tuple[int, int] = (112, 112)
) -> np.ndarray:
    """A cartoon face laid out on the ArcFace template (BGR uint8), for
    demos of face masks without face data: a skin-coloured ellipse (the
    elliptic prior of :func:`~mmdl.datasets.face.face_region`) on a plain
    background, brows and eyes at the template's eyes, a nose line ending
    at the nose tip, a mouth between the mouth corners, colours drawn from
    ``rng``."""
    from mmdl.datasets.face import face_region, template_landmarks
    height, width = image_size
    points = template_landmarks(image_size)
    scale = width / 112.0
    background = rng.integers(40, 220, 3)
    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = background
    # skin tones (BGR) from light to dark
    tones = np.array([[189, 214, 241], [150, 190, 224], [110, 150, 198],
                      [70, 105, 150], [50, 75, 110]],
                     dtype=np.float64)
    skin = tones[rng.integers(len(tones))] * rng.uniform(0.92, 1.05)
    skin = tuple(int(v) for v in np.clip(skin, 0, 255))
    img[face_region(image_size) > 0] = skin
    hair = tuple(int(v) for v in rng.integers(10, 90, 3))
    iris = tuple(int(v) for v in rng.integers(20, 120, 3))
    dark = tuple(int(0.55 * v) for v in skin)

    def pt(x, y):
        return int(round(x)), int(round(y))

    for x, y in points[:2]:
        cv2.ellipse(img, pt(x, y - 9 * scale), pt(8 * scale, 2.5 * scale), 0,
                    180, 360, hair, max(1, int(2 * scale)))
        cv2.ellipse(img, pt(x, y), pt(7 * scale, 3.5 * scale), 0, 0, 360,
                    (245, 245, 245), -1)
        cv2.circle(img, pt(x, y), max(1, int(round(3 * scale))), iris, -1)
        cv2.circle(img, pt(x, y), max(1, int(round(1.2 * scale))),
                   (10, 10, 10), -1)
    nose = points[2]
    cv2.line(img, pt(nose[0], points[0, 1] + 6 * scale),
             pt(nose[0] - 2 * scale, nose[1]), dark, max(1, int(scale)))
    cv2.ellipse(img, pt(nose[0], nose[1]), pt(5 * scale, 2.5 * scale), 0, 0,
                180, dark, max(1, int(scale)))
    left, right = points[3], points[4]
    centre = (left + right) / 2
    lips = (int(0.45 * skin[0]), int(0.45 * skin[1]), min(255, skin[2] + 10))
    cv2.ellipse(img, pt(*centre), pt((right[0] - left[0]) / 2, 4 * scale), 0,
                0, 180, lips, -1)
    cv2.line(img, pt(*left), pt(*right), dark, max(1, int(scale)))
    return img
