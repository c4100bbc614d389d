# Copyright (c) mmdl contributors. All rights reserved.
"""An independent writer and parser of MXNet RecordIO files for the tests,
written with ``struct`` from the format description (dmlc-core recordio,
MXNet recordio.py), sharing no code with :mod:`mmdl.datasets.face`."""
import os
import os.path as osp
import struct
import zlib

import cv2
import numpy as np

MAGIC = 0xCED7230A
MAGIC_LE = bytes([0x0A, 0x23, 0xD7, 0xCE])  # the magic as stored
IR = '<IfQQ'  # flag, label, id, id2


def ir_payload(label, image=b'', id=0, id2=0):
    """A record payload: the header, the float32 labels of a list label,
    the image."""
    if isinstance(label, (list, tuple)):
        labels = struct.pack(f'<{len(label)}f', *label)
        return struct.pack(IR, len(label), 0.0, id, id2) + labels + image
    return struct.pack(IR, 0, label, id, id2) + image


def split_parts(payload):
    """The parts of a payload between 4-aligned magic numbers, scanning
    word by word."""
    parts, start = [], 0
    for i in range(0, len(payload) // 4 * 4, 4):
        if payload[i:i + 4] == MAGIC_LE:
            parts.append(payload[start:i])
            start = i + 4
    parts.append(payload[start:])
    return parts


def chunk_flags(num_parts):
    """The cflags of a record of ``num_parts`` parts."""
    if num_parts == 1:
        return [0]
    return [1] + [2] * (num_parts - 2) + [3]


def encode_record(payload):
    """The chunks of one record as bytes."""
    parts = split_parts(payload)
    out = b''
    for flag, part in zip(chunk_flags(len(parts)), parts):
        out += MAGIC_LE + struct.pack('<I', (flag << 29) | len(part))
        out += part + b'\0' * ((4 - len(part) % 4) % 4)
    return out


def write_rec_files(root, records, rec='train.rec', idx='train.idx'):
    """Write ``records`` (a list of ``(key, payload)``) and the index;
    return ``{key: offset}``."""
    os.makedirs(root, exist_ok=True)
    offsets, blob = {}, b''
    for key, payload in records:
        offsets[key] = len(blob)
        blob += encode_record(payload)
    with open(osp.join(root, rec), 'wb') as f:
        f.write(blob)
    with open(osp.join(root, idx), 'w') as f:
        f.write(''.join(f'{k}\t{o}\n' for k, o in offsets.items()))
    return offsets


def parse_rec(path):
    """Parse a ``.rec`` file sequentially: a list of ``(offset, payload,
    cflags)`` per record."""
    with open(path, 'rb') as f:
        data = f.read()
    records, pos = [], 0
    while pos < len(data):
        start, parts, flags = pos, [], []
        while True:
            magic, lrec = struct.unpack_from('<II', data, pos)
            assert magic == MAGIC, pos
            flag, length = lrec >> 29, lrec & ((1 << 29) - 1)
            part = data[pos + 8:pos + 8 + length]
            assert len(part) == length
            padding = data[pos + 8 + length:pos + 8 + (length + 3) // 4 * 4]
            assert padding == b'\0' * len(padding)
            pos += 8 + (length + 3) // 4 * 4
            parts.append(part)
            flags.append(flag)
            if flag in (0, 3):
                break
        records.append((start, MAGIC_LE.join(parts), flags))
    assert pos == len(data)
    return records


def parse_idx(path):
    """``[(key, offset)]`` of an ``.idx`` file."""
    with open(path) as f:
        return [tuple(int(v) for v in line.split('\t')) for line in f]


def unpack(payload):
    """``(flag, labels, image)``: labels a float or a list of floats."""
    flag, label, _, _ = struct.unpack_from(IR, payload)
    if flag == 0:
        return flag, label, payload[24:]
    labels = list(struct.unpack_from(f'<{flag}f', payload, 24))
    return flag, labels, payload[24 + 4 * flag:]


def noise_image(seed, height=12, width=10):
    """A random uint8 BGR image."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)


def encode(img, ext='.png'):
    """``cv2.imencode`` bytes."""
    ok, buffer = cv2.imencode(ext, img)
    assert ok
    return buffer.tobytes()


def magic_filler(start, num_magic):
    """Bytes that, placed at payload offset ``start``, put ``num_magic``
    magic numbers at 4-aligned payload offsets, the last two adjacent, and
    one more at an unaligned offset (which must not split)."""
    data = b'x' * (-start % 4)
    for i in range(num_magic):
        data += MAGIC_LE + (b'abcd' if i < num_magic - 2 else b'')
    return data + b'y' + MAGIC_LE + b'zzz'


def jpeg_with_magic(img, prefix, num_magic):
    """JPEG bytes of ``img`` with a comment segment holding magic numbers
    at 4-aligned offsets of a payload whose image starts at ``prefix``."""
    jpeg = encode(img, '.jpg')
    text = magic_filler(prefix + 6, num_magic)  # after SOI, FFFE, length
    segment = b'\xff\xfe' + struct.pack('>H', len(text) + 2) + text
    return jpeg[:2] + segment + jpeg[2:]


def png_with_magic(img, prefix, num_magic):
    """PNG bytes of ``img`` with a private ancillary chunk (after IHDR)
    holding magic numbers at 4-aligned offsets of a payload whose image
    starts at ``prefix``."""
    png = encode(img, '.png')
    end_ihdr = 8 + 8 + 13 + 4
    text = magic_filler(prefix + end_ihdr + 8, num_magic)
    chunk = struct.pack('>I', len(text)) + b'mdLx' + text + struct.pack(
        '>I', zlib.crc32(b'mdLx' + text))
    return png[:end_ihdr] + chunk + png[end_ihdr:]


def write_face_set(root, with_property=True, num_classes_property=None):
    """A miniature insightface set: 3 identities of 2, 3 and 1 images of
    12x10 pixels, ``train.rec`` / ``train.idx`` / ``property``.

    Image records: scalar labels, a flag-2 label array and a flag-3 one;
    JPEG and PNG; one image split into 2 parts, one into 3 parts. Returns
    a dict: ``root``, ``keys`` (image keys), ``labels``, ``images`` (the
    encoded bytes), ``decoded`` (BGR arrays), ``ranges``, ``payloads`` and
    ``offsets``.
    """
    class_of = [0, 0, 1, 1, 1, 2]
    labels_of = {2: [0.0, 7.5], 4: [1.0, -2.0, 3.25]}  # key -> label array
    first = len(class_of) + 1
    last = first + 3
    records = [(0, ir_payload([float(first), float(last)]))]
    images, decoded = {}, {}
    for i, label in enumerate(class_of):
        key = i + 1
        label_value = labels_of.get(key, float(label))
        prefix = 24 + 4 * (
            len(label_value) if isinstance(label_value, list) else 0)
        img = noise_image(key)
        if key == 2:
            data = jpeg_with_magic(img, prefix, 1)  # 2 parts
        elif key == 5:
            data = png_with_magic(img, prefix, 2)  # 3 parts
        elif key % 2:
            data = encode(img, '.jpg')
        else:
            data = encode(img, '.png')
        images[key] = data
        decoded[key] = cv2.imdecode(
            np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        records.append((key, ir_payload(label_value, data)))
    ranges = [(1, 3), (3, 6), (6, 7)]
    for identity, (a, b) in enumerate(ranges):
        records.append((first + identity, ir_payload([float(a), float(b)])))
    offsets = write_rec_files(root, records)
    if with_property:
        num = 3 if num_classes_property is None else num_classes_property
        with open(osp.join(root, 'property'), 'w') as f:
            f.write(f'{num},12,10\n')
    return dict(
        root=root,
        keys=list(range(1, first)),
        labels=class_of,
        images=images,
        decoded=decoded,
        ranges=ranges,
        payloads=dict(records),
        offsets=offsets)
