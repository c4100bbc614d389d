# Copyright (c) mmdl contributors. All rights reserved.
import os.path as osp
import pickle
import random
import struct

import numpy as np
import pytest
from mxrec_helpers import (MAGIC_LE, encode_record, ir_payload, parse_idx,
                           parse_rec, split_parts, unpack, write_face_set,
                           write_rec_files)

from mmdl.datasets.face import (IRHeader, RecordIOError, RecordIOReader,
                                RecordIOWriter, pack_record, read_index,
                                read_property, unpack_record)

# payloads with the magic number at 4-aligned offsets (start, end,
# adjacent), at unaligned ones (no split) and lengths of every residue
# modulo 4 (padding 0 to 3)
RAW_PAYLOADS = [
    b'',
    b'a',
    b'ab',
    b'abc',
    b'abcd',
    MAGIC_LE,
    MAGIC_LE + b'tail',
    b'head' + MAGIC_LE,
    b'head' + MAGIC_LE + b'mid1' + MAGIC_LE + b'end',
    MAGIC_LE + MAGIC_LE + MAGIC_LE,
    b'h' + MAGIC_LE + b'xyz',  # unaligned: one chunk
    b'hea' + MAGIC_LE,  # unaligned at the end
    bytes(range(256)) * 3 + MAGIC_LE + b'12',
]


def reader_of(root):
    return RecordIOReader(
        osp.join(root, 'train.rec'), osp.join(root, 'train.idx'))


@pytest.fixture
def face_set(tmp_path):
    return write_face_set(str(tmp_path / 'faces'))


def test_independent_file_has_split_records(face_set):
    flags = {
        off: fl
        for off, _, fl in parse_rec(osp.join(face_set['root'], 'train.rec'))
    }
    assert flags[face_set['offsets'][2]] == [1, 3]  # 2 parts
    assert flags[face_set['offsets'][5]] == [1, 2, 3]  # 3 parts


def test_reader_returns_exact_payloads_in_any_order(face_set):
    reader = reader_of(face_set['root'])
    payloads = face_set['payloads']
    assert reader.keys.tolist() == list(payloads)
    keys = list(payloads)
    random.Random(0).shuffle(keys)
    for key in keys + keys[::-1]:
        assert reader.read(key) == payloads[key]
        assert reader.offset(key) == face_set['offsets'][key]


def test_raw_payloads_split_and_padded(tmp_path):
    # keys out of order and not contiguous
    records = [(10 * i + 3 if i % 2 else 1000 - i, p)
               for i, p in enumerate(RAW_PAYLOADS)]
    write_rec_files(str(tmp_path), records)
    reader = reader_of(str(tmp_path))
    order = list(range(len(records)))
    random.Random(1).shuffle(order)
    for i in order:
        key, payload = records[i]
        assert reader.read(key) == payload, key
    assert 11 not in reader and 13 in reader and 'a' not in reader


def test_unpack_scalar_and_label_arrays(face_set):
    reader = reader_of(face_set['root'])
    header, labels = reader.read_header(0)
    assert header == IRHeader(2, 0.0, 0, 0)
    assert labels.dtype == np.float32 and labels.tolist() == [7.0, 10.0]
    for key in face_set['keys']:
        header, labels, image = reader.read_record(key)
        assert image == face_set['images'][key]
        flag, expected, _ = unpack(face_set['payloads'][key])
        assert header.flag == flag
        if flag == 0:
            assert isinstance(labels, float) and labels == expected
            assert header.label == expected
        else:
            assert header.label == 0.0
            assert labels.tolist() == expected
        head_only = reader.read_header(key)
        assert head_only[0] == header
        assert np.array_equal(head_only[1], labels)
    assert reader.read_header(4)[1].tolist() == [1.0, -2.0, 3.25]  # flag 3
    assert reader.read_header(8)[1].tolist() == [3.0, 6.0]  # identity 1


def test_read_header_when_labels_hold_the_magic(tmp_path):
    # a label whose float32 bytes are the magic: split inside the labels
    magic_float = struct.unpack('<f', MAGIC_LE)[0]
    payload = ir_payload([1.0, magic_float, 2.0], b'\x89PNGdata', id=5)
    assert len(split_parts(payload)) == 2
    write_rec_files(str(tmp_path), [(0, payload)])
    reader = reader_of(str(tmp_path))
    header, labels = reader.read_header(0)
    assert header == IRHeader(3, 0.0, 5, 0)
    assert labels.view('<u4')[1] == struct.unpack('<I', MAGIC_LE)[0]
    assert reader.read_record(0)[2] == b'\x89PNGdata'


def test_pack_record_matches_struct():
    assert pack_record(3, b'img', id=7, id2=9) == ir_payload(3.0, b'img', 7, 9)
    assert pack_record([1, 2.5], b'img') == ir_payload([1.0, 2.5], b'img')
    assert pack_record(np.array([[1, 2], [3, 4]]),
                       b'') == ir_payload([1.0, 2.0, 3.0, 4.0])
    header, labels, image = unpack_record(pack_record([4, 5, 6], b'x'))
    assert header == IRHeader(3, 0.0, 0, 0) and image == b'x'
    assert labels.tolist() == [4.0, 5.0, 6.0]
    assert unpack_record(pack_record(2.0, b''))[1:] == (2.0, b'')
    with pytest.raises(ValueError, match='empty label array'):
        pack_record([], b'')
    with pytest.raises(RecordIOError, match='fewer than the 24'):
        unpack_record(b'short')
    with pytest.raises(RecordIOError, match='announces 5 labels'):
        unpack_record(struct.pack('<IfQQ', 5, 0.0, 0, 0) + b'1234')


def test_writer_output_parsed_independently(tmp_path):
    rec, idx = str(tmp_path / 'w.rec'), str(tmp_path / 'w.idx')
    keys = [5, 3, 100] + list(range(6, 6 + len(RAW_PAYLOADS) - 3))
    with RecordIOWriter(rec, idx) as writer:
        offsets = [writer.write(k, p) for k, p in zip(keys, RAW_PAYLOADS)]
    parsed = parse_rec(rec)
    assert [p for _, p, _ in parsed] == RAW_PAYLOADS
    assert [o for o, _, _ in parsed] == offsets
    assert parse_idx(idx) == list(zip(keys, offsets))
    # byte for byte what the independent encoder writes
    with open(rec, 'rb') as f:
        assert f.read() == b''.join(map(encode_record, RAW_PAYLOADS))
    assert [len(fl) for _, _, fl in parsed][5:10] == [2, 2, 2, 3, 4]
    assert read_index(idx) == dict(zip(keys, offsets))
    assert list(read_index(idx)) == keys  # file order
    # and back through the reader
    reader = RecordIOReader(rec, idx)
    for key, payload in zip(keys, RAW_PAYLOADS):
        assert reader.read(key) == payload


def test_writer_rejects_bad_input(tmp_path):
    rec, idx = str(tmp_path / 'w.rec'), str(tmp_path / 'w.idx')
    writer = RecordIOWriter(rec, idx)
    writer.write(2, b'a')
    writer.write(4, b'b')
    writer.write(3, b'c')  # out of order is fine
    with pytest.raises(ValueError, match='key 4 is written twice'):
        writer.write(4, b'd')
    with pytest.raises(TypeError, match='integers'):
        writer.write('k', b'd')
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match='closed'):
        writer.write(9, b'e')
    assert parse_idx(idx) == [(2, 0), (4, 12), (3, 24)]


def test_pickled_reader_reopens(face_set):
    reader = reader_of(face_set['root'])
    assert reader.read(1) == face_set['payloads'][1]
    handle = reader._file
    clone = pickle.loads(pickle.dumps(reader))
    assert clone._file is None
    assert clone.read(5) == face_set['payloads'][5]
    # as in a forked worker: another pid opens its own handle and leaves
    # the parent's open
    reader._pid = -1
    assert reader.read(2) == face_set['payloads'][2]
    assert reader._file is not handle and not handle.closed
    handle.close()
    reader.close()
    assert reader.read(3) == face_set['payloads'][3]


def corrupt(path, offset, data):
    with open(path, 'r+b') as f:
        f.seek(offset)
        f.write(data)


def test_bad_magic_names_file_key_offset(face_set):
    rec = osp.join(face_set['root'], 'train.rec')
    offset = face_set['offsets'][3]
    corrupt(rec, offset, b'\0\0\0\0')
    reader = reader_of(face_set['root'])
    with pytest.raises(RecordIOError) as error:
        reader.read(3)
    assert str(error.value) == (
        f'{rec}: record key 3 at byte offset {offset}: bad magic number '
        '0x00000000 (expected 0xCED7230A); is the index for this file?')
    with pytest.raises(RecordIOError, match='record key 3 at byte offset'):
        reader.read_header(3)
    # the magic of the second chunk of a split record
    second = face_set['offsets'][5] + 8 + (
        len(split_parts(face_set['payloads'][5])[0]) + 3) // 4 * 4
    corrupt(rec, second, b'\xff\xff\xff\xff')
    with pytest.raises(RecordIOError) as error:
        reader.read(5)
    assert (f'record key 5 at byte offset {face_set["offsets"][5]}, chunk '
            f'at byte offset {second}: bad magic') in str(error.value)


def test_truncated_file_names_file_key_offset(face_set):
    rec = osp.join(face_set['root'], 'train.rec')
    last = face_set['offsets'][9]
    for size, what in ((last + 20, 'truncated payload: 12 of 32 bytes'),
                       (last + 5, 'truncated chunk header: 5 of 8 bytes')):
        with open(rec, 'r+b') as f:
            f.truncate(size)
        with pytest.raises(RecordIOError) as error:
            reader_of(face_set['root']).read(9)
        assert str(error.value) == (f'{rec}: record key 9 at byte offset '
                                    f'{last}: {what} before the end of the '
                                    'file')


def test_unexpected_cflags(face_set):
    rec = osp.join(face_set['root'], 'train.rec')
    reader = reader_of(face_set['root'])
    offset = face_set['offsets'][1]
    length = len(face_set['payloads'][1])
    corrupt(rec, offset + 4, struct.pack('<I', (2 << 29) | length))
    with pytest.raises(
            RecordIOError,
            match=f'{rec}: record key 1 at byte '
            f'offset {offset}: the record starts with a chunk '
            'of cflag 2'):
        reader.read(1)
    # the second part of key 2 marked as a whole record
    offset = face_set['offsets'][2]
    second = offset + 8 + (len(split_parts(face_set['payloads'][2])[0]) +
                           3) // 4 * 4
    with open(rec, 'rb') as f:
        f.seek(second + 4)
        lrec = struct.unpack('<I', f.read(4))[0]
    corrupt(rec, second + 4, struct.pack('<I', lrec & ((1 << 29) - 1)))
    with pytest.raises(
            RecordIOError,
            match=f'record key 2 at byte offset '
            f'{offset}, chunk at byte offset {second}: chunk 1 '
            'of a split record has cflag 0'):
        reader.read(2)


def test_missing_key_and_bad_index(tmp_path, face_set):
    reader = reader_of(face_set['root'])
    idx = osp.join(face_set['root'], 'train.idx')
    with pytest.raises(
            RecordIOError, match=f'{idx}: key 42 is not in the '
            'index'):
        reader.read(42)
    bad = tmp_path / 'bad.idx'
    bad.write_text('0\t0\n1\tx\n')
    with pytest.raises(RecordIOError, match=f'{bad}, line 2: expected'):
        read_index(str(bad))
    bad.write_text('0\t0\n1\t8\n0\t16\n')
    with pytest.raises(
            RecordIOError, match=f'{bad}, line 3: key 0 appears '
            'more than once'):
        read_index(str(bad))
    with pytest.raises(RecordIOError, match='line 3: key 0 appears'):
        RecordIOReader(osp.join(face_set['root'], 'train.rec'), str(bad))
    with pytest.raises(FileNotFoundError, match='nope.idx'):
        read_index(str(tmp_path / 'nope.idx'))


def test_read_property(tmp_path):
    path = tmp_path / 'property'
    path.write_text('85742,112,112\n')
    assert read_property(str(path)) == (85742, 112, 112)
    for text in ('85742,112\n', 'a,b,c', '0,112,112', '1,2,3\n4,5,6\n'):
        path.write_text(text)
        with pytest.raises(RecordIOError, match=f'{path}: expected one line'):
            read_property(str(path))
    with pytest.raises(FileNotFoundError, match='nope'):
        read_property(str(tmp_path / 'nope'))
