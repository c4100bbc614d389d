# Copyright (c) mmdl contributors. All rights reserved.
"""Write ``.bin`` verification sets from a pairs list and an image
folder, in insightface's format (a pickle of ``(bins, issame_list)``)."""
import os
import os.path as osp
import pickle
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np

from .mxface import decode_image, image_format

Pair = Tuple[str, str, bool]


def read_pairs_list(path: str) -> List[Pair]:
    """A pairs list: one pair per line, ``<image 1> <image 2> <label>``
    (paths relative to the image folder; label 1 same, 0 different); blank
    lines and lines starting with ``#`` are skipped.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: A line is malformed (named with its number).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'pairs list {path} does not exist')
    pairs = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            fields = line.split()
            if len(fields) != 3 or fields[2] not in ('0', '1'):
                raise ValueError(f'{path}: line {number}: expected '
                                 '"<image 1> <image 2> <0|1>", got '
                                 f'{line!r}')
            pairs.append((fields[0], fields[1], fields[2] == '1'))
    if not pairs:
        raise ValueError(f'{path}: no pairs')
    return pairs


def encode_for_bin(data: bytes,
                   source: str,
                   size: int = 112,
                   quality: int = 95) -> bytes:
    """The bytes stored for one image: the original JPEG/PNG when it is
    ``size`` x ``size``, else the image resized to that and encoded as
    JPEG of ``quality``."""
    img = decode_image(data, source)
    if img.shape[:2] == (size, size):
        return bytes(data)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode('.jpg', img,
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f'{source}: could not be encoded as JPEG')
    return encoded.tobytes()


def write_bin(path: str, bins: Sequence[bytes],
              issame: Sequence[bool]) -> None:
    """Pickle ``(bins, issame_list)`` to ``path`` (atomically: a temporary
    file renamed), creating the folder."""
    if len(bins) != 2 * len(issame):
        raise ValueError(f'write_bin: {len(bins)} images for '
                         f'{len(issame)} pairs')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'wb') as f:
        pickle.dump(([bytes(b) for b in bins], [bool(s) for s in issame]),
                    f,
                    protocol=4)
    os.replace(tmp, path)


def make_bin(pairs: Sequence[Pair],
             image_root: str,
             out_path: str,
             size: int = 112,
             quality: int = 95) -> Dict[str, int]:
    """Build a ``.bin`` set from pairs of image files.

    Args:
        pairs (Sequence[tuple]): ``(image 1, image 2, same)`` with paths
            relative to ``image_root`` (:func:`read_pairs_list`).
        image_root (str): The image folder.
        out_path (str): The ``.bin`` to write.
        size (int): Side of the stored images. Defaults to 112.
        quality (int): JPEG quality of resized images. Defaults to 95.

    Returns:
        dict: ``pairs``, ``same`` and ``reencoded`` counts.

    Raises:
        FileNotFoundError: An image does not exist.
        ValueError: An image is not JPEG/PNG or does not decode.
    """
    bins, issame, reencoded = [], [], 0
    cache: Dict[str, bytes] = {}
    for first, second, same in pairs:
        for name in (first, second):
            if name not in cache:
                path = osp.join(image_root, name)
                if not osp.isfile(path):
                    raise FileNotFoundError(f'image {path} (in the pairs '
                                            'list) does not exist')
                with open(path, 'rb') as f:
                    data = f.read()
                if image_format(data) is None:
                    raise ValueError(f'{path}: not a JPEG or PNG image')
                cache[name] = encode_for_bin(data, path, size, quality)
                reencoded += cache[name] != data
            bins.append(cache[name])
        issame.append(bool(same))
    write_bin(out_path, bins, issame)
    return dict(pairs=len(issame), same=int(np.sum(issame)),
                reencoded=reencoded)
