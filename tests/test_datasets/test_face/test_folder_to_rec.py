# Copyright (c) mmdl contributors. All rights reserved.
import os
import os.path as osp
import runpy

import cv2
import numpy as np
import pytest
from mmpretrain.datasets import CustomDataset
from mxrec_helpers import encode, noise_image, parse_idx, parse_rec, unpack

from mmdl.datasets import MXFaceDataset, RecordIOReader
from mmdl.datasets.face import folder_to_rec, write_rec

TOOL = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))),
    'tools', 'dataset_converters', 'folder_to_rec.py')

# <identity>/<image>: classes alice, bob, carol (no image), dave
FILES = {
    'bob/b.png': '.png',
    'bob/a.jpg': '.jpg',
    'bob/sub/c.JPG': '.jpg',
    'alice/y.jpeg': '.jpg',
    'alice/x.bmp': '.bmp',
    'carol/notes.txt': None,
    'carol/.hidden.jpg': '.jpg',
    'dave/z.png': '.png',
}


def write_folder(root, files=FILES, size=(12, 10)):
    for i, (name, ext) in enumerate(sorted(files.items())):
        path = osp.join(root, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        data = b'text' if ext is None else encode(noise_image(i, *size), ext)
        with open(path, 'wb') as f:
            f.write(data)
    with open(osp.join(root, 'README.txt'), 'w') as f:
        f.write('not a class')
    return root


def read_bytes(path):
    with open(path, 'rb') as f:
        return f.read()


@pytest.fixture
def converted(tmp_path):
    folder = write_folder(str(tmp_path / 'faces'))
    out = str(tmp_path / 'rec')
    stats = folder_to_rec(folder, out)
    return folder, out, stats


def test_round_trip_is_byte_identical(converted):
    folder, out, stats = converted
    assert stats['classes'] == ['alice', 'bob', 'carol', 'dave']
    assert stats['empty_classes'] == ['carol']
    assert (stats['num_classes'], stats['num_images']) == (4, 6)
    assert stats['image_size'] == (12, 10) and stats['reencoded'] == 1
    assert stats['header'] == (7, 11)
    assert sorted(os.listdir(out)) == ['property', 'train.idx', 'train.rec']
    with open(osp.join(out, 'property')) as f:
        assert f.read() == '4,12,10\n'
    # independent parse: header, images, identity ranges
    records = parse_rec(osp.join(out, 'train.rec'))
    assert [k for k, _ in parse_idx(osp.join(out, 'train.idx'))
            ] == list(range(11))
    assert [o for _, o in parse_idx(osp.join(out, 'train.idx'))
            ] == [o for o, _, _ in records]
    payloads = [unpack(p) for _, p, _ in records]
    assert payloads[0] == (2, [7.0, 11.0], b'')
    sources = [
        'alice/x.bmp', 'alice/y.jpeg', 'bob/a.jpg', 'bob/b.png',
        'bob/sub/c.JPG', 'dave/z.png'
    ]
    assert [p[1] for p in payloads[1:7]] == [0.0, 0.0, 1.0, 1.0, 1.0, 3.0]
    for (flag, _, image), name in zip(payloads[2:7], sources[1:]):
        assert flag == 0
        assert image == read_bytes(osp.join(folder, name))
    # the BMP is stored as a JPEG of quality 95
    bmp = cv2.imread(osp.join(folder, 'alice/x.bmp'))
    assert payloads[1][2] == cv2.imencode(
        '.jpg', bmp, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()
    assert [p[1] for p in payloads[7:]] == [[1.0, 3.0], [3.0, 6.0], [6.0, 6.0],
                                            [6.0, 7.0]]
    assert all(p[0] == 2 and p[2] == b'' for p in payloads[7:])
    # and through the reader
    reader = RecordIOReader(
        osp.join(out, 'train.rec'), osp.join(out, 'train.idx'))
    for key, name in zip(range(2, 7), sources[1:]):
        assert reader.read_record(key)[2] == read_bytes(osp.join(folder, name))


def test_custom_dataset_gives_the_same_labels(converted):
    folder, out, stats = converted
    custom = CustomDataset(data_root=folder, pipeline=[])
    rec = MXFaceDataset(out)
    assert custom.metainfo['classes'] == tuple(stats['classes'])
    assert len(custom) == len(rec) == 6
    reader = rec.reader
    for idx in range(len(custom)):
        info = custom.get_data_info(idx)
        sample = rec.get_data_info(idx)
        assert sample['gt_label'] == info['gt_label']
        assert rec.identity_of_key(sample['key']) == info['gt_label']
        if not info['img_path'].endswith('.bmp'):
            assert reader.read_record(sample['key'])[2] == read_bytes(
                info['img_path'])
            assert np.array_equal(sample['img'], cv2.imread(info['img_path']))


def test_reencode_all(tmp_path):
    folder = write_folder(str(tmp_path / 'faces'))
    stats = folder_to_rec(
        folder, str(tmp_path / 'rec'), reencode=True, quality=80)
    assert stats['reencoded'] == 6
    reader = RecordIOReader(
        str(tmp_path / 'rec' / 'train.rec'),
        str(tmp_path / 'rec' / 'train.idx'))
    assert all(
        reader.read_record(k)[2][:2] == b'\xff\xd8' for k in range(1, 7))


def test_write_rec_in_memory(tmp_path):
    images = [[encode(noise_image(0)),
               encode(noise_image(1), '.jpg')], [], [encode(noise_image(2))]]
    out = str(tmp_path / 'rec')
    stats = write_rec(out, images)
    assert stats['header'] == (4, 7) and stats['image_size'] == (12, 10)
    dataset = MXFaceDataset(out)
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(3)] == [0, 0, 2]
    assert dataset.id_ranges.tolist() == [[1, 3], [3, 3], [3, 4]]
    assert dataset.identity_of_key(3) == 2
    assert np.array_equal(dataset[2]['img'], noise_image(2))
    # errors name the image; nothing is left behind
    bad = str(tmp_path / 'bad')
    with pytest.raises(
            ValueError,
            match=r'class 1, image 0: the image is '
            r'8x8 \(height x width\) but the set is 12x10'):
        write_rec(bad, [[images[0][0]], [encode(noise_image(3, 8, 8))]])
    with pytest.raises(
            ValueError, match='class 0, image 1: not a JPEG or '
            'PNG image'):
        write_rec(bad, [[images[0][0], b'BM not an image']])
    with pytest.raises(ValueError, match='no images to write'):
        write_rec(bad, [[], []])
    assert os.listdir(bad) == []


def test_folder_errors_name_the_file(tmp_path):
    folder = write_folder(str(tmp_path / 'faces'))
    odd = osp.join(folder, 'dave', 'zz.png')
    with open(odd, 'wb') as f:
        f.write(encode(noise_image(9, 8, 8)))
    with pytest.raises(ValueError, match=f'{odd}: the image is 8x8'):
        folder_to_rec(folder, str(tmp_path / 'rec'))
    with open(odd, 'wb') as f:
        f.write(b'broken')
    with pytest.raises(
            ValueError, match=f'{odd}: the image does not '
            'decode'):
        folder_to_rec(folder, str(tmp_path / 'rec'))
    assert not osp.exists(str(tmp_path / 'rec' / 'train.rec'))
    with pytest.raises(ValueError, match='is inside the image folder'):
        folder_to_rec(folder, osp.join(folder, 'rec'))


def run_tool(capsys, *argv):
    main = runpy.run_path(TOOL)['main']
    capsys.readouterr()
    try:
        main([str(a) for a in argv])
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_tool(tmp_path, capsys):
    folder = write_folder(str(tmp_path / 'faces'))
    out = tmp_path / 'rec'
    code, stdout, _ = run_tool(capsys, folder, out, '--quality', 90)
    assert code == 0
    assert stdout.splitlines() == [
        f'{out}: 6 images of 4 classes, 12x10 (height x width), 1 '
        're-encoded as JPEG', 'classes without images (kept, empty): carol'
    ]
    assert len(MXFaceDataset(str(out))) == 6
    missing = tmp_path / 'missing'
    code, _, stderr = run_tool(capsys, missing, out)
    assert code == 1
    assert stderr == (f'folder_to_rec.py: error: {missing} is not a '
                      'directory (expected <folder>/<identity>/<image>)\n')
    empty = tmp_path / 'empty'
    empty.mkdir()
    code, _, stderr = run_tool(capsys, empty, out)
    assert code == 1 and f'{empty} has no subfolders' in stderr
    (empty / 'a').mkdir()
    code, _, stderr = run_tool(capsys, empty, out)
    assert code == 1 and f'{empty} has no image files' in stderr
