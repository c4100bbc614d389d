# Copyright (c) mmdl contributors. All rights reserved.
"""Draw a grid of faces masked by ``RandomFaceMask`` (the synthetic masks
of masked face recognition), each outlined with its mask segmentation::

    python tools/visualization/browse_face_mask.py --out masks.png \\
        [--source synthetic] [--source digits [CACHE_DIR]] \\
        [--source bin FILE.bin] [--source folder DIR] \\
        [--num 16] [--seed 0] [--prob 1.0] [--ncols 8] [--no-contour]

Sources (repeat ``--source`` to mix them; ``--num`` is shared out):

* ``digits [CACHE_DIR]``: the held-out ``.bin`` of the digits face set,
  written by :func:`mmdl.datasets.face.write_digits_face_set` into
  ``CACHE_DIR`` (default ``data/cache/digits_faces``) when missing (the
  default source);
* ``bin FILE``: a ``.bin`` verification set (aligned faces);
* ``folder DIR``: the images under a folder (aligned faces), sorted;
* ``synthetic``: cartoon faces on the ArcFace template
  (:func:`mmdl.visualization.synthetic_face`).

Images are taken evenly spread over each source. Masks use the ArcFace
template scaled to the image (aligned faces), sample ``i`` of the grid drawn
with ``np.random.default_rng([seed, i])``. The grid logic is
:func:`mmdl.visualization.face_mask_grid`; the path written is printed.
"""
import argparse
import os
import os.path as osp
from typing import List

import numpy as np

SOURCES = ('digits', 'bin', 'folder', 'synthetic')
IMAGE_EXTS = ('.png', '.jpg', '.jpeg', '.bmp')
DIGITS_CACHE = osp.join('data', 'cache', 'digits_faces')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=osp.basename(__file__),
        description='Draw a grid of faces with synthetic face masks')
    parser.add_argument(
        '--out',
        default=osp.join('work_dirs', 'face_masks.png'),
        help='PNG file to write (default: work_dirs/face_masks.png)')
    parser.add_argument(
        '--source',
        action='append',
        nargs='+',
        metavar='KIND [PATH]',
        help='digits [CACHE_DIR] | bin FILE | folder DIR | synthetic; '
        'repeat to mix (default: digits)')
    parser.add_argument(
        '--num', type=int, default=16, help='faces in all (default: 16)')
    parser.add_argument(
        '--seed', type=int, default=0, help='mask seed (default: 0)')
    parser.add_argument(
        '--prob',
        type=float,
        default=1.0,
        help='probability of masking a face (default: 1.0)')
    parser.add_argument(
        '--ncols', type=int, default=8, help='grid columns (default: 8)')
    parser.add_argument(
        '--size',
        type=int,
        default=112,
        help='side of the synthetic faces and of the grid cells '
        '(default: 112)')
    parser.add_argument(
        '--no-contour',
        action='store_true',
        help='do not outline the mask segmentation')
    args = parser.parse_args(argv)
    args.source = args.source or [['digits']]
    for source in args.source:
        kind, rest = source[0], source[1:]
        if kind not in SOURCES:
            parser.error(f'argument --source: unknown kind {kind!r}; '
                         f'expected one of {SOURCES}')
        if (kind in ('bin', 'folder')
                and len(rest) != 1) or (kind == 'digits' and len(rest)
                                        > 1) or (kind == 'synthetic' and rest):
            parser.error(f'argument --source: {" ".join(source)!r}: expected '
                         'digits [CACHE_DIR] | bin FILE | folder DIR | '
                         'synthetic')
    if args.num < 1 or args.ncols < 1 or args.size < 8:
        parser.error('--num and --ncols must be >= 1 and --size >= 8')
    return parser, args


def spread(total: int, count: int) -> List[int]:
    """``count`` indices spread evenly over ``range(total)``."""
    count = min(count, total)
    return [int(i) for i in np.linspace(0, total - 1, count).round()]


def load_source(source: List[str], count: int, size: int,
                rng: np.random.Generator) -> List[np.ndarray]:
    """``count`` BGR images of one ``--source``."""
    import cv2

    from mmdl.datasets.face import load_bin, write_digits_face_set
    from mmdl.datasets.face.bin_verification import \
        decode_verification_image
    from mmdl.visualization import synthetic_face
    kind = source[0]
    if kind == 'synthetic':
        return [synthetic_face(rng, (size, size)) for _ in range(count)]
    if kind in ('digits', 'bin'):
        if kind == 'digits':
            path = write_digits_face_set(source[1] if len(source) >
                                         1 else DIGITS_CACHE)['bin']
        else:
            path = source[1]
        bins, _ = load_bin(path)
        return [
            decode_verification_image(bins[i], f'{path}: image {i}')
            for i in spread(len(bins), count)
        ]
    folder = source[1]
    if not osp.isdir(folder):
        raise FileNotFoundError(f'image folder {folder} does not exist')
    files = sorted(
        osp.join(root, name) for root, _, names in os.walk(folder)
        for name in names if name.lower().endswith(IMAGE_EXTS))
    if not files:
        raise ValueError(f'{folder}: no {"/".join(IMAGE_EXTS)} images')
    images = []
    for i in spread(len(files), count):
        img = cv2.imread(files[i], cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'{files[i]}: not an image OpenCV can read')
        images.append(img)
    return images


def main(argv=None):
    parser, args = parse_args(argv)
    from mmdl.datasets import RandomFaceMask
    from mmdl.visualization import face_mask_grid
    try:
        mask = RandomFaceMask(prob=args.prob, seed=args.seed)
        rng = np.random.default_rng(args.seed)
        counts = [
            args.num // len(args.source) + (k < args.num % len(args.source))
            for k in range(len(args.source))
        ]
        images = []
        for source, count in zip(args.source, counts):
            if count:
                images += load_source(source, count, args.size, rng)
        results = [
            mask(dict(img=img, sample_idx=i)) for i, img in enumerate(images)
        ]
        face_mask_grid(
            [r['img'] for r in results],
            None if args.no_contour else [r['gt_seg_map'] for r in results],
            ncols=args.ncols,
            out_file=args.out,
            cell_size=(args.size, args.size))
    except (OSError, ValueError) as error:
        parser.exit(1, f'{parser.prog}: error: {error}\n')
    print(args.out)
    return args.out


if __name__ == '__main__':
    main()
