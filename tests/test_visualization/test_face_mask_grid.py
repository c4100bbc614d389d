# Copyright (c) mmdl contributors. All rights reserved.
"""The face-mask grid: cell layout and outlines against the inputs, the
written PNG, the cartoon face, and the browse_face_mask tool on a tiny
``.bin`` set and an image folder."""
import os.path as osp
import pickle
import runpy

import cv2
import numpy as np
import pytest

from conftest import REPO_ROOT
from mmdl.visualization import face_mask_grid, synthetic_face
from mmdl.visualization.face_mask_grid import CONTOUR_COLOR

TOOL = osp.join(REPO_ROOT, 'tools', 'visualization', 'browse_face_mask.py')


def _images(count, size=(20, 24)):
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 200, size + (3, ), dtype=np.uint8)
        for _ in range(count)
    ]


def test_grid_layout_and_png(tmp_path):
    images = _images(5)
    seg = np.zeros((20, 24), np.uint8)
    seg[5:15, 6:18] = 1
    out = tmp_path / 'sub' / 'grid.png'
    grid = face_mask_grid(
        images, [None, seg, None, None, None],
        ncols=3,
        out_file=str(out),
        pad=2)
    assert grid.shape == (2 * 22 + 2, 3 * 26 + 2, 3)
    assert np.array_equal(cv2.imread(str(out)), grid)
    # cell 0 untouched, cell 4 at row 1 column 1, the padding white
    assert np.array_equal(grid[2:22, 2:26], images[0])
    assert np.array_equal(grid[24:44, 28:52], images[4])
    assert (grid[24:44, 54:78] == 255).all()  # empty last cell
    # cell 1: the outline of the square, the rest unchanged
    cell = grid[2:22, 28:52]
    outline = (cell == CONTOUR_COLOR).all(-1)
    expected = np.zeros_like(seg, bool)
    expected[5:15, 6:18] = True
    expected[6:14, 7:17] = False
    assert np.array_equal(outline, expected)
    assert np.array_equal(cell[~expected], images[1][~expected])


def test_grid_resizes_and_checks():
    mixed = _images(2) + [np.zeros((10, 10), np.uint8)]
    with pytest.raises(ValueError, match='pass cell_size'):
        face_mask_grid(mixed)
    grid = face_mask_grid(mixed, cell_size=(8, 8), ncols=8, pad=0)
    assert grid.shape == (8, 24, 3)
    with pytest.raises(ValueError, match='one map per image'):
        face_mask_grid(_images(2), [None])
    with pytest.raises(ValueError, match='at least one image'):
        face_mask_grid([])


def test_synthetic_face_is_reproducible():
    first = synthetic_face(np.random.default_rng(3), (112, 112))
    again = synthetic_face(np.random.default_rng(3), (112, 112))
    assert first.shape == (112, 112, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert synthetic_face(np.random.default_rng(0),
                          (64, 48)).shape == (64, 48, 3)


def test_browse_tool_on_bin_and_folder(tmp_path, capsys):
    main = runpy.run_path(TOOL)['main']
    faces = [synthetic_face(np.random.default_rng(i)) for i in range(4)]
    bins = [cv2.imencode('.png', f)[1].tobytes() for f in faces]
    with open(tmp_path / 'tiny.bin', 'wb') as f:
        pickle.dump((bins, [True, False]), f)
    folder = tmp_path / 'faces' / 'a'
    folder.mkdir(parents=True)
    for i, face in enumerate(faces[:2]):
        cv2.imwrite(str(folder / f'{i}.png'), face)
    out = str(tmp_path / 'grid.png')
    assert main([
        '--out', out, '--source', 'bin',
        str(tmp_path / 'tiny.bin'), '--source', 'folder',
        str(tmp_path / 'faces'), '--source', 'synthetic', '--num', '6',
        '--ncols', '4'
    ]) == out
    assert capsys.readouterr().out.strip() == out
    assert cv2.imread(out).shape == (2 * 114 + 2, 4 * 114 + 2, 3)
    # an unknown kind, a missing path: argparse errors
    with pytest.raises(SystemExit) as error:
        main(['--out', out, '--source', 'video'])
    assert error.value.code == 2
    with pytest.raises(SystemExit) as error:
        main(['--out', out, '--source', 'bin'])
    assert error.value.code == 2
    with pytest.raises(SystemExit) as error:
        main(['--out', out, '--source', 'folder', str(tmp_path / 'none')])
    assert error.value.code == 1
    assert 'does not exist' in capsys.readouterr().err
