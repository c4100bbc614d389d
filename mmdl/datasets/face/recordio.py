# Copyright (c) mmdl contributors. All rights reserved.
"""A pure-Python reader and writer of MXNet's RecordIO files, the format of
insightface's face-recognition training sets (MS1MV2, MS1MV3, Glint360K:
``train.rec``, ``train.idx`` and ``property``). No mxnet is needed.

The format follows dmlc-core's ``recordio`` and MXNet's ``recordio.py``:

* The ``.rec`` file is a sequence of chunks. A chunk is the magic number
  ``0xCED7230A``, ``lrec = (cflag << 29) | length`` (both ``uint32``,
  little-endian), ``length`` payload bytes and zero padding up to a multiple
  of 4 bytes. ``cflag`` 0 is a complete record; 1, 2 and 3 are the first,
  a middle and the last part of a record that was split.
* The writer splits a payload wherever the 4 bytes at a 4-aligned offset
  (from the payload start) are the magic: it drops those 4 bytes and starts
  a new chunk. The reader concatenates the parts and puts the magic back
  between consecutive parts, so that a reader that looks for the magic to
  resynchronise never finds one inside a payload.
* A record's payload starts with an ``IRHeader``, ``struct`` format
  ``'<IfQQ'`` (24 bytes): ``flag``, ``label``, ``id``, ``id2``. With
  ``flag == 0`` the label is the scalar ``label``; with ``flag > 0``,
  ``flag`` float32 values follow the header and are the label (the header's
  ``label`` is 0). The rest is the encoded image (JPEG or PNG).
* The ``.idx`` file is text, one ``<key>\\t<byte offset>`` line per record;
  the offset is that of the record's first chunk.
* insightface's ``property`` file is one line
  ``num_classes,image_height,image_width``.

:class:`RecordIOReader` reads records at random through the index and is
safe in dataloader workers: it opens the ``.rec`` file lazily in each
process and is picklable without its file handle.
"""
import array
import collections
import io
import numbers
import os
import os.path as osp
import struct
import threading
from typing import Dict, Iterable, Optional, Tuple, Union

import numpy as np

#: The magic number that starts every chunk.
MAGIC = 0xCED7230A
#: The magic number as it is stored (uint32, little-endian).
MAGIC_BYTES = struct.pack('<I', MAGIC)
#: Payloads (and chunk lengths) are smaller than this.
MAX_PAYLOAD = 1 << 29
#: ``struct`` format of the record header.
IR_FORMAT = '<IfQQ'
#: Size of the record header in bytes.
IR_SIZE = struct.calcsize(IR_FORMAT)

_CHUNK_HEAD = struct.Struct('<II')
_LENGTH_MASK = MAX_PAYLOAD - 1
#: cflag values.
_FULL, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3

#: A record header: ``flag`` (uint32, the number of float32 labels that
#: follow the header, 0 for a scalar label), ``label`` (float32, the scalar
#: label; 0 when ``flag > 0``), ``id`` and ``id2`` (uint64).
IRHeader = collections.namedtuple('IRHeader', ['flag', 'label', 'id', 'id2'])

Label = Union[float, np.ndarray]


class RecordIOError(ValueError):
    """A malformed RecordIO, index or property file, or a key that is not
    in the index."""


def _align4(length: int) -> int:
    """``length`` rounded up to a multiple of 4."""
    return (length + 3) & ~3


def _check_key(key) -> int:
    """An integer record key as a Python int."""
    integral = isinstance(key, (numbers.Integral, np.integer))
    if not integral or isinstance(key, (bool, np.bool_)):
        raise TypeError(f'record keys are integers, got {key!r} '
                        f'({type(key).__name__})')
    key = int(key)
    if key < 0:
        raise ValueError(f'record keys are >= 0, got {key}')
    return key


# ----------------------------------------------------------------------
# records
# ----------------------------------------------------------------------
def pack_record(label: Union[float, Iterable[float]],
                image_bytes: bytes,
                id: int = 0,
                id2: int = 0) -> bytes:
    """The payload of one record, as MXNet's ``recordio.pack``.

    Args:
        label (float | Sequence[float] | np.ndarray): A scalar label
            (written in the header, ``flag`` 0) or a non-empty array of
            labels (``flag`` = their number; float32 values after the
            header, whose ``label`` is 0).
        image_bytes (bytes): The encoded image (may be empty, as in
            insightface's header and identity records).
        id (int): The header's ``id`` (uint64). Defaults to 0.
        id2 (int): The header's ``id2`` (uint64). Defaults to 0.

    Returns:
        bytes: The payload: header, labels, image.
    """
    scalar = isinstance(label, (numbers.Real, np.number))
    if scalar and not isinstance(label, (bool, np.bool_)):
        head = struct.pack(IR_FORMAT, 0, float(label), id, id2)
        return head + bytes(image_bytes)
    labels = np.asarray(label, dtype=np.float32).ravel()
    if labels.size == 0:
        raise ValueError('pack_record: an empty label array cannot be '
                         'stored (flag 0 means a scalar label)')
    head = struct.pack(IR_FORMAT, labels.size, 0.0, id, id2)
    return head + labels.astype('<f4').tobytes() + bytes(image_bytes)


def unpack_header(payload: bytes) -> Tuple[IRHeader, Label, int]:
    """The header and labels of a payload, and where its image starts.

    Args:
        payload (bytes): A record's payload (at least its header and
            labels).

    Returns:
        tuple: ``(header, labels, image_offset)``: the :data:`IRHeader`,
        the labels (a float for ``flag`` 0, else a float32 array of
        ``flag`` values) and the offset of the image in the payload.

    Raises:
        RecordIOError: If the payload is shorter than its header and
            labels.
    """
    if len(payload) < IR_SIZE:
        raise RecordIOError(f'the payload has {len(payload)} bytes, fewer '
                            f'than the {IR_SIZE} of a record header')
    header = IRHeader(*struct.unpack_from(IR_FORMAT, payload))
    if header.flag == 0:
        return header, float(header.label), IR_SIZE
    end = IR_SIZE + 4 * header.flag
    if len(payload) < end:
        raise RecordIOError(f'the header announces {header.flag} labels '
                            f'({end} bytes with the header) but the payload '
                            f'has {len(payload)} bytes')
    labels = np.frombuffer(
        payload, dtype='<f4', count=header.flag,
        offset=IR_SIZE).astype(np.float32)
    return header, labels, end


def unpack_record(payload: bytes) -> Tuple[IRHeader, Label, bytes]:
    """Split a payload into header, labels and image, as MXNet's
    ``recordio.unpack`` (which, unlike this function, puts the label array
    into the header).

    Args:
        payload (bytes): A record's payload.

    Returns:
        tuple: ``(header, labels, image_bytes)``: the :data:`IRHeader` as
        stored, the labels (a float for ``flag`` 0, else a float32 array)
        and the encoded image.

    Raises:
        RecordIOError: If the payload is shorter than its header and
            labels.
    """
    header, labels, start = unpack_header(payload)
    return header, labels, bytes(payload[start:])


# ----------------------------------------------------------------------
# index and property files
# ----------------------------------------------------------------------
def _parse_index(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """The keys and offsets of an ``.idx`` file as int64 arrays, in file
    order; every line is checked."""
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f'{path}: the index file does not '
                                'exist') from None
    if not data.strip():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    try:
        # fast (C) path for well-formed files; 6M lines take 0.4 s
        table = np.loadtxt(
            io.BytesIO(data),
            dtype=np.int64,
            delimiter='\t',
            comments=None,
            ndmin=2)
        if table.shape[1] == 2 and table.min() >= 0:
            return (np.ascontiguousarray(table[:, 0]),
                    np.ascontiguousarray(table[:, 1]))
    except ValueError:
        pass
    # every line, for the error message (or a file with other whitespace)
    lines = data.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    keys = np.empty(len(lines), dtype=np.int64)
    offsets = np.empty(len(lines), dtype=np.int64)
    for number, line in enumerate(lines):
        fields = line.split()
        try:
            if len(fields) != 2:
                raise ValueError
            key, offset = int(fields[0]), int(fields[1])
            if key < 0 or offset < 0:
                raise ValueError
        except ValueError:
            raise RecordIOError(
                f'{path}, line {number + 1}: expected "<key>\\t<offset>" '
                f'with two integers >= 0, got {line[:80]!r}') from None
        keys[number] = key
        offsets[number] = offset
    return keys, offsets


def read_index(path: str) -> Dict[int, int]:
    """Read an ``.idx`` file.

    Args:
        path (str): The index file.

    Returns:
        dict[int, int]: Record key to byte offset, in file order.

    Raises:
        FileNotFoundError: If the file does not exist.
        RecordIOError: If a line is not two integers or a key repeats
            (naming the file and the line or key).
    """
    keys, offsets = _parse_index(path)
    index = dict(zip(keys.tolist(), offsets.tolist()))
    if len(index) != len(keys):
        _raise_duplicate(path, keys)
    return index


def _raise_duplicate(path: str, keys: np.ndarray) -> None:
    """Raise the error of the first repeated key of an index."""
    seen = set()
    for number, key in enumerate(keys.tolist()):
        if key in seen:
            raise RecordIOError(f'{path}, line {number + 1}: key {key} '
                                'appears more than once')
        seen.add(key)


def read_property(path: str) -> Tuple[int, int, int]:
    """Read insightface's ``property`` file.

    Args:
        path (str): The file: one line ``num_classes,height,width``, e.g.
            ``85742,112,112``.

    Returns:
        tuple[int, int, int]: ``(num_classes, height, width)``.

    Raises:
        FileNotFoundError: If the file does not exist.
        RecordIOError: If the content is not three positive integers
            (naming the file).
    """
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f'{path}: the property file does not '
                                'exist') from None
    lines = [line for line in text.splitlines() if line.strip()]
    fields = lines[0].split(',') if len(lines) == 1 else []
    try:
        values = tuple(int(field.strip()) for field in fields)
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) <= 0:
        raise RecordIOError(f'{path}: expected one line '
                            '"num_classes,image_height,image_width" of '
                            f'positive integers, got {text[:80]!r}')
    return values


# ----------------------------------------------------------------------
# reader
# ----------------------------------------------------------------------
class RecordIOReader:
    """Random access to the records of an indexed RecordIO file.

    The index is read at construction (keys and offsets as int64 arrays,
    about 16 bytes per record); the ``.rec`` file is opened on first read,
    once per process: a reader copied into a forked or spawned dataloader
    worker opens its own handle, and pickling leaves the handle out. Reads
    use ``os.pread`` where available, so threads may share a reader.

    Args:
        path_rec (str): The ``.rec`` file.
        path_idx (str): Its ``.idx`` file.

    Raises:
        FileNotFoundError: If a file does not exist.
        RecordIOError: If the index is malformed or repeats a key.
    """

    def __init__(self, path_rec: str, path_idx: str) -> None:
        if not osp.isfile(path_rec):
            raise FileNotFoundError(f'{path_rec}: the RecordIO file does '
                                    'not exist')
        self.path_rec = path_rec
        self.path_idx = path_idx
        self._keys, self._offsets = _parse_index(path_idx)
        keys = self._keys
        self._first = int(keys[0]) if len(keys) else 0
        self._contiguous = bool(
            len(keys) == 0 or (keys[-1] - keys[0] == len(keys) - 1
                               and np.all(np.diff(keys) == 1)))
        self._order = None
        if not self._contiguous:
            self._order = np.argsort(keys, kind='stable')
            sorted_keys = keys[self._order]
            if len(keys) > 1 and np.any(sorted_keys[1:] == sorted_keys[:-1]):
                _raise_duplicate(path_idx, keys)
            self._sorted_keys = sorted_keys
        self._keys.flags.writeable = False
        self._offsets.flags.writeable = False
        self._file = None
        self._pid = None
        self._lock = threading.Lock()

    # -- pickling and handles ------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state['_file'] = None
        state['_pid'] = None
        state['_lock'] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _handle(self):
        """The ``.rec`` file of this process, opened on first use."""
        pid = os.getpid()
        if self._file is None or self._pid != pid:
            # after a fork the inherited handle belongs to the parent: it is
            # left alone (not closed) and this process opens its own
            self._file = open(self.path_rec, 'rb')
            self._pid = pid
        return self._file

    def close(self) -> None:
        """Close this process's handle of the ``.rec`` file (it is opened
        again by the next read)."""
        if self._file is not None and self._pid == os.getpid():
            self._file.close()
        self._file = None
        self._pid = None

    def __enter__(self) -> 'RecordIOReader':
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def _pread(self, size: int, offset: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (fewer at the end of the
        file)."""
        f = self._handle()
        if hasattr(os, 'pread'):
            parts = []
            while size > 0:
                part = os.pread(f.fileno(), size, offset)
                if not part:
                    break
                parts.append(part)
                size -= len(part)
                offset += len(part)
            return b''.join(parts)
        with self._lock:
            f.seek(offset)
            return f.read(size)

    # -- index -----------------------------------------------------------
    @property
    def keys(self) -> np.ndarray:
        """The record keys in the order of the index file (read-only int64
        array)."""
        return self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def _position(self, key: int) -> int:
        """The line of ``key`` in the index, -1 if it is not there."""
        if self._contiguous:
            pos = key - self._first
            return pos if 0 <= pos < len(self._keys) else -1
        i = int(np.searchsorted(self._sorted_keys, key))
        if i < len(self._sorted_keys) and self._sorted_keys[i] == key:
            return int(self._order[i])
        return -1

    def __contains__(self, key) -> bool:
        try:
            key = _check_key(key)
        except (TypeError, ValueError):
            return False
        return self._position(key) >= 0

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Which of ``keys`` are in the index (vectorised).

        Args:
            keys (np.ndarray): Integer keys.

        Returns:
            np.ndarray: A boolean array of the shape of ``keys``.
        """
        keys = np.asarray(keys, dtype=np.int64)
        if self._contiguous:
            return (keys >= self._first) & (keys < self._first + len(self))
        i = np.searchsorted(self._sorted_keys, keys)
        i = np.minimum(i, max(len(self._sorted_keys) - 1, 0))
        if not len(self._sorted_keys):
            return np.zeros(keys.shape, dtype=bool)
        return self._sorted_keys[i] == keys

    def offset(self, key: int) -> int:
        """The byte offset of record ``key``.

        Raises:
            RecordIOError: If the key is not in the index.
        """
        key = _check_key(key)
        pos = self._position(key)
        if pos < 0:
            raise RecordIOError(f'{self.path_idx}: key {key} is not in the '
                                f'index ({len(self)} records) of '
                                f'{self.path_rec}')
        return int(self._offsets[pos])

    # -- records ---------------------------------------------------------
    def _error(self,
               key: int,
               offset: int,
               what: str,
               chunk: Optional[int] = None) -> RecordIOError:
        where = f'byte offset {offset}'
        if chunk is not None and chunk != offset:
            where += f', chunk at byte offset {chunk}'
        record = 'record' if key is None else f'record key {key}'
        return RecordIOError(f'{self.path_rec}: {record} at {where}: '
                             f'{what}')

    def _chunk(self, key: int, offset: int,
               pos: int) -> Tuple[int, int, bytes]:
        """The chunk at ``pos``: ``(cflag, next chunk position, data)``."""
        head = self._pread(_CHUNK_HEAD.size, pos)
        if len(head) < _CHUNK_HEAD.size:
            raise self._error(
                key, offset, f'truncated chunk header: {len(head)} of '
                f'{_CHUNK_HEAD.size} bytes before the end of the file', pos)
        magic, lrec = _CHUNK_HEAD.unpack(head)
        if magic != MAGIC:
            raise self._error(
                key, offset, f'bad magic number 0x{magic:08X} (expected '
                f'0x{MAGIC:08X}); is the index for this file?', pos)
        cflag, length = lrec >> 29, lrec & _LENGTH_MASK
        data = self._pread(length, pos + _CHUNK_HEAD.size)
        if len(data) < length:
            raise self._error(
                key, offset, f'truncated payload: {len(data)} of {length} '
                'bytes before the end of the file', pos)
        return cflag, pos + _CHUNK_HEAD.size + _align4(length), data

    def read_at(self, offset: int, key: Optional[int] = None) -> bytes:
        """The payload of the record whose first chunk is at ``offset``.

        Args:
            offset (int): Byte offset of the record's first chunk.
            key (int, optional): The key, for error messages.

        Returns:
            bytes: The payload, split parts joined with the magic number.

        Raises:
            RecordIOError: For a bad magic number, a truncated chunk or an
                unexpected sequence of chunk flags (naming the file, the key
                and the offset).
        """
        cflag, pos, data = self._chunk(key, offset, offset)
        if cflag == _FULL:
            return data
        if cflag != _FIRST:
            raise self._error(
                key, offset, f'the record starts with a chunk of cflag '
                f'{cflag} (expected 0, a whole record, or 1, its first '
                'part)')
        parts = [data]
        while True:
            chunk = pos
            cflag, pos, data = self._chunk(key, offset, chunk)
            if cflag not in (_MIDDLE, _LAST):
                raise self._error(
                    key, offset, f'chunk {len(parts)} of a split record has '
                    f'cflag {cflag} (expected 2, a middle part, or 3, the '
                    'last part)', chunk)
            parts.append(data)
            if sum(map(len, parts)) + 4 * (len(parts) - 1) >= MAX_PAYLOAD:
                raise self._error(
                    key, offset, 'the split record exceeds the maximum '
                    f'payload of {MAX_PAYLOAD} bytes', chunk)
            if cflag == _LAST:
                return MAGIC_BYTES.join(parts)

    def read(self, key: int) -> bytes:
        """The payload of record ``key``.

        Raises:
            RecordIOError: If the key is not in the index or the record is
                malformed (naming the file, the key and the offset).
        """
        key = _check_key(key)
        return self.read_at(self.offset(key), key)

    def read_header(self, key: int) -> Tuple[IRHeader, Label]:
        """The header and labels of record ``key``, without its image when
        they lie in the first chunk (always, unless they hold the magic
        number).

        Returns:
            tuple: ``(header, labels)`` as from :func:`unpack_record`.

        Raises:
            RecordIOError: If the key is not in the index or the record is
                malformed.
        """
        key = _check_key(key)
        offset = self.offset(key)
        # the header chunk and, usually, the header and a few labels
        head = self._pread(_CHUNK_HEAD.size + IR_SIZE + 16, offset)
        if len(head) >= _CHUNK_HEAD.size:
            magic, lrec = _CHUNK_HEAD.unpack_from(head)
            length = lrec & _LENGTH_MASK
            if magic == MAGIC and (lrec >> 29) in (_FULL, _FIRST) and \
                    length >= IR_SIZE and len(head) >= 8 + IR_SIZE:
                flag = struct.unpack_from('<I', head, 8)[0]
                need = IR_SIZE + 4 * flag
                if need <= length:
                    if len(head) < 8 + need:
                        head = self._pread(8 + need, offset)
                    if len(head) >= 8 + need:
                        try:
                            header, labels, _ = unpack_header(head[8:8 + need])
                        except RecordIOError as error:
                            raise self._error(key, offset,
                                              str(error)) from None
                        return header, labels
        payload = self.read_at(offset, key)
        try:
            header, labels, _ = unpack_header(payload)
        except RecordIOError as error:
            raise self._error(key, offset, str(error)) from None
        return header, labels

    def read_record(self, key: int) -> Tuple[IRHeader, Label, bytes]:
        """Record ``key`` unpacked: ``(header, labels, image_bytes)``.

        Raises:
            RecordIOError: If the key is not in the index or the record is
                malformed.
        """
        key = _check_key(key)
        offset = self.offset(key)
        payload = self.read_at(offset, key)
        try:
            return unpack_record(payload)
        except RecordIOError as error:
            raise self._error(key, offset, str(error)) from None

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(path_rec={self.path_rec!r}, '
                f'path_idx={self.path_idx!r}, records={len(self)})')


# ----------------------------------------------------------------------
# writer
# ----------------------------------------------------------------------
def _chunks(payload: bytes):
    """``(cflag, data)`` of the chunks of a payload (dmlc-core's rule: a
    new chunk at every 4-aligned magic number, which is dropped)."""
    cuts = []
    start = 0
    end = len(payload) & ~3
    while True:
        i = payload.find(MAGIC_BYTES, start, end)
        if i < 0:
            break
        if i % 4:
            start = i + 1
            continue
        cuts.append(i)
        start = i + 4
    if not cuts:
        return [(_FULL, payload)]
    chunks = []
    begin = 0
    for number, cut in enumerate(cuts):
        chunks.append((_FIRST if number == 0 else _MIDDLE, payload[begin:cut]))
        begin = cut + 4
    chunks.append((_LAST, payload[begin:]))
    return chunks


class RecordIOWriter:
    """Write an indexed RecordIO file, as MXNet's ``MXIndexedRecordIO`` in
    ``'w'`` mode.

    Records are appended in the order written; each ``write`` adds one
    ``<key>\\t<offset>`` line to the index. Use it as a context manager or
    call :meth:`close`.

    Args:
        path_rec (str): The ``.rec`` file to write (truncated).
        path_idx (str): The ``.idx`` file to write (truncated).
    """

    def __init__(self, path_rec: str, path_idx: str) -> None:
        self.path_rec = path_rec
        self.path_idx = path_idx
        self._rec = open(path_rec, 'wb')
        try:
            self._idx = open(path_idx, 'w', newline='\n')
        except BaseException:
            self._rec.close()
            raise
        self._position = 0
        self._last_key = -1
        self._seen = None  # all keys, once they stop increasing
        self._keys = array.array('q')
        self.num_records = 0

    def write(self, key: int, payload: bytes) -> int:
        """Append one record.

        Args:
            key (int): The record's key (an integer >= 0, unique).
            payload (bytes): The payload, e.g. from :func:`pack_record`;
                shorter than ``2 ** 29`` bytes.

        Returns:
            int: The byte offset of the record.

        Raises:
            ValueError: If the writer is closed, the key repeats or the
                payload is too large.
        """
        if self._rec is None:
            raise ValueError(f'{self.path_rec}: the writer is closed')
        key = _check_key(key)
        payload = bytes(payload)
        if len(payload) >= MAX_PAYLOAD:
            raise ValueError(f'{self.path_rec}: record key {key} has '
                             f'{len(payload)} bytes; RecordIO payloads are '
                             f'smaller than 2**29 = {MAX_PAYLOAD}')
        if key <= self._last_key:
            if self._seen is None:
                self._seen = set(self._keys)
            if key in self._seen:
                raise ValueError(f'{self.path_idx}: key {key} is written '
                                 'twice')
        if self._seen is None:
            self._keys.append(key)
        else:
            self._seen.add(key)
        self._last_key = max(self._last_key, key)
        offset = self._position
        out = []
        for cflag, data in _chunks(payload):
            out.append(_CHUNK_HEAD.pack(MAGIC, (cflag << 29) | len(data)))
            out.append(data)
            out.append(b'\0' * (_align4(len(data)) - len(data)))
        block = b''.join(out)
        self._rec.write(block)
        self._position += len(block)
        self._idx.write(f'{key}\t{offset}\n')
        self.num_records += 1
        return offset

    def close(self) -> None:
        """Flush and close both files (again: nothing)."""
        if self._rec is None:
            return
        try:
            self._rec.close()
        finally:
            self._idx.close()
            self._rec = None
            self._keys = array.array('q')
            self._seen = None

    def __enter__(self) -> 'RecordIOWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()
