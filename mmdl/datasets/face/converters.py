# Copyright (c) mmdl contributors. All rights reserved.
"""Write face-recognition sets in insightface's RecordIO layout:
``train.rec``, ``train.idx`` and ``property``.

The records are those of insightface's MS1MV2 / MS1MV3 / Glint360K files:

* key 0: a header, label ``[L0, L1]`` (``flag`` 2), no image;
* keys ``1 .. N`` (``N = L0 - 1`` images): scalar label = class id, the
  encoded image (JPEG or PNG);
* keys ``L0 .. L1-1``: one per class, label ``[a, b]``, the half-open range
  of the image keys of the class, no image.

``property`` is ``num_classes,height,width``.
"""
import io
import os
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, TypeVar

import cv2
import numpy as np

from .mxface import image_format
from .recordio import RecordIOWriter, pack_record

#: Image file extensions of mmpretrain's ``CustomDataset`` (the default of
#: its ``extensions``), compared in lower case.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')
#: float32 labels hold every integer key up to this value.
MAX_EXACT_KEY = 1 << 24

Item = TypeVar('Item')


def encoded_size(data: bytes, where: str = 'image') -> Tuple[int, int]:
    """``(height, width)`` of a JPEG or PNG from its header (nothing is
    decoded).

    Raises:
        ValueError: If the header cannot be read (naming ``where``).
    """
    from PIL import Image
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
    except Exception as error:
        raise ValueError(
            f'{where}: cannot read the size of the '
            f'{image_format(data) or "image"} ({error})') from None
    return height, width


def _write_rec(out_dir: str,
               classes: Sequence[Sequence[Item]],
               load: Callable[[Item], bytes],
               describe: Callable[[int, int, Item], str],
               image_size: Optional[Tuple[int, int]] = None,
               rec_file: str = 'train.rec',
               idx_file: str = 'train.idx',
               property_file: str = 'property') -> dict:
    """:func:`write_rec` on items that ``load`` turns into encoded images;
    ``describe(class, index, item)`` names an item in errors."""
    counts = [len(items) for items in classes]
    num_classes, num_images = len(counts), sum(counts)
    if not num_images:
        raise ValueError(f'no images to write ({num_classes} classes)')
    first = num_images + 1
    last = first + num_classes
    if last > MAX_EXACT_KEY:
        raise ValueError(
            f'{num_images} images and {num_classes} classes need keys up '
            f'to {last}; the float32 labels of the layout hold keys '
            f'exactly only up to 2**24 = {MAX_EXACT_KEY}')
    os.makedirs(out_dir, exist_ok=True)
    paths = [
        osp.join(out_dir, name) for name in (rec_file, idx_file, property_file)
    ]
    parts = [path + '.part' for path in paths]
    size = tuple(image_size) if image_size is not None else None
    try:
        with RecordIOWriter(parts[0], parts[1]) as writer:
            writer.write(0, pack_record([first, last], b''))
            key = 1
            ranges = []
            for label, items in enumerate(classes):
                start = key
                for index, item in enumerate(items):
                    data = load(item)
                    if image_format(data) is None:
                        raise ValueError(
                            f'{describe(label, index, item)}: not a JPEG or '
                            f'PNG image ({len(data)} bytes starting with '
                            f'{bytes(data[:8])!r})')
                    shape = encoded_size(data, describe(label, index, item))
                    if size is None:
                        size = shape
                    elif shape != size:
                        raise ValueError(
                            f'{describe(label, index, item)}: the image is '
                            f'{shape[0]}x{shape[1]} (height x width) but '
                            f'the set is {size[0]}x{size[1]}; all images '
                            'must have one size (property file)')
                    writer.write(key, pack_record(float(label), data))
                    key += 1
                if key - start != counts[label]:
                    raise ValueError(f'class {label}: {counts[label]} '
                                     f'images announced, {key - start} '
                                     'given')
                ranges.append((start, key))
            for label, (start, stop) in enumerate(ranges):
                writer.write(first + label, pack_record([start, stop], b''))
        with open(parts[2], 'w', newline='\n') as f:
            f.write(f'{num_classes},{size[0]},{size[1]}\n')
        for part, path in zip(parts, paths):
            os.replace(part, path)
    finally:
        for part in parts:
            if osp.exists(part):
                os.remove(part)
    return dict(
        num_classes=num_classes,
        num_images=num_images,
        image_size=size,
        header=(first, last),
        rec=paths[0],
        idx=paths[1],
        property=paths[2])


def write_rec(out_dir: str,
              images_by_class: Sequence[Sequence[bytes]],
              image_size: Optional[Tuple[int, int]] = None,
              rec_file: str = 'train.rec',
              idx_file: str = 'train.idx',
              property_file: str = 'property') -> dict:
    """Write encoded images in insightface's layout (see the module).

    Args:
        out_dir (str): Folder to write into (created if needed). Files of
            the same names are replaced once everything is written.
        images_by_class (Sequence[Sequence[bytes]]): The JPEG or PNG bytes
            of each class; class ids are positions, images keep their
            order. A class may be empty (its range is empty).
        image_size (tuple[int, int], optional): ``(height, width)`` of all
            images; None: that of the first image. Every image is checked
            against it.
        rec_file (str): Name of the record file. Defaults to
            ``'train.rec'``.
        idx_file (str): Name of the index file. Defaults to
            ``'train.idx'``.
        property_file (str): Name of the property file. Defaults to
            ``'property'``.

    Returns:
        dict: ``num_classes``, ``num_images``, ``image_size``, ``header``
        (``(L0, L1)``) and the paths ``rec``, ``idx``, ``property``.

    Raises:
        ValueError: If there are no images, an image is not JPEG or PNG or
            its size differs (naming the class and index).
    """
    return _write_rec(
        out_dir,
        images_by_class,
        load=bytes,
        describe=lambda label, index, item: f'class {label}, image {index}',
        image_size=image_size,
        rec_file=rec_file,
        idx_file=idx_file,
        property_file=property_file)


def folder_classes(
    folder: str,
    extensions: Sequence[str] = IMG_EXTENSIONS
) -> Tuple[List[str], List[List[str]]]:
    """The classes and images of an ``<identity>/<image>`` folder, in the
    order of mmpretrain's ``CustomDataset`` (whose functions list them):
    classes are the sorted names of the subfolders (hidden ones too, as
    mmpretrain lists them), images the files below each (recursively, not
    hidden, with one of ``extensions`` in any case) sorted by their path
    relative to the class folder.

    Args:
        folder (str): The image folder.
        extensions (Sequence[str]): Image file extensions.

    Returns:
        tuple: ``(classes, images)``: the class names and, per class, the
        image paths (``folder/<class>/<relative path>``).

    Raises:
        FileNotFoundError: If ``folder`` is not a directory.
        ValueError: If it has no subfolder or no image.
    """
    from mmpretrain.datasets.custom import find_folders, get_samples
    layout = 'expected <folder>/<identity>/<image>'
    if not osp.isdir(folder):
        raise FileNotFoundError(f'{folder} is not a directory ({layout})')
    classes, folder_to_idx = find_folders(folder)
    if not classes:
        raise ValueError(f'{folder} has no subfolders ({layout})')
    extensions = tuple(ext.lower() for ext in extensions)
    samples, _ = get_samples(
        folder,
        folder_to_idx,
        is_valid_file=lambda name: name.lower().endswith(extensions))
    if not samples:
        raise ValueError(
            f'{folder} has no image files ({", ".join(extensions)}'
            f') in its {len(classes)} subfolders ({layout})')
    images = [[] for _ in classes]
    for path, label in samples:
        images[label].append(osp.join(folder, path))
    return classes, images


def folder_to_rec(folder: str,
                  out_dir: str,
                  quality: int = 95,
                  reencode: bool = False,
                  extensions: Sequence[str] = IMG_EXTENSIONS,
                  rec_file: str = 'train.rec',
                  idx_file: str = 'train.idx',
                  property_file: str = 'property') -> dict:
    """Convert an ``<identity>/<image>`` folder to insightface's RecordIO
    layout, with the class ids of mmpretrain's ``CustomDataset`` on the
    folder (:func:`folder_classes`).

    JPEG and PNG files are stored as they are (the reader returns their
    bytes unchanged); other formats, or all images with ``reencode``, are
    decoded with OpenCV and stored as JPEG of the given quality. All images
    must have one size (written to the property file). Only image headers
    are read to check sizes; stored files are not decoded.

    Args:
        folder (str): The image folder.
        out_dir (str): The output folder (not inside ``folder``: it would
            become a class of the folder; the folder itself is
            allowed).
        quality (int): JPEG quality of re-encoded images, 0 to 100.
            Defaults to 95.
        reencode (bool): Re-encode every image as JPEG. Defaults to False.
        extensions (Sequence[str]): Image file extensions. Defaults to
            ``CustomDataset``'s.
        rec_file (str): Name of the record file. Defaults to
            ``'train.rec'``.
        idx_file (str): Name of the index file. Defaults to
            ``'train.idx'``.
        property_file (str): Name of the property file. Defaults to
            ``'property'``.

    Returns:
        dict: As :func:`write_rec`, with ``classes`` (the folder names),
        ``empty_classes`` (those without images, kept with empty ranges as
        ``CustomDataset`` keeps them) and ``reencoded`` (the number of
        re-encoded images).

    Raises:
        FileNotFoundError: If ``folder`` is not a directory.
        ValueError: If it holds no image, an image does not decode or the
            sizes differ (naming the file), or ``out_dir`` is inside it.
    """
    if not 0 <= quality <= 100:
        raise ValueError(f'quality must be in [0, 100], got {quality}')
    if osp.isdir(folder):
        root = osp.realpath(folder)
        target = osp.realpath(out_dir)
        if target != root and osp.commonpath([root, target]) == root:
            raise ValueError(f'the output folder {out_dir} is inside the '
                             f'image folder {folder}, where it would be '
                             'taken for a class; write it elsewhere')
    classes, images = folder_classes(folder, extensions)
    reencoded = 0

    def load(path: str) -> bytes:
        nonlocal reencoded
        with open(path, 'rb') as f:
            data = f.read()
        if not reencode and image_format(data) is not None:
            return data
        img = cv2.imdecode(
            np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise ValueError(f'{path}: the image does not decode')
        ok, buffer = cv2.imencode('.jpg', img,
                                  [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise ValueError(f'{path}: JPEG encoding failed')
        reencoded += 1
        return buffer.tobytes()

    stats = _write_rec(
        out_dir,
        images,
        load=load,
        describe=lambda label, index, path: path,
        rec_file=rec_file,
        idx_file=idx_file,
        property_file=property_file)
    stats.update(
        classes=classes,
        empty_classes=[c for c, paths in zip(classes, images) if not paths],
        reencoded=reencoded)
    return stats
