# Copyright (c) mmdl contributors. All rights reserved.
"""The accuracy-matrix heat map: the written PNG's size, the cell colours
(brighter for higher values in viridis, blank where not measured) and the
annotations."""
import numpy as np
import pytest
from matplotlib.image import imread

from mmdl.visualization import draw_accuracy_matrix, save_accuracy_matrix

MATRIX = [[10.0, None], [20.0, 90.0]]
METRICS = dict(ACC=55.0, BWT=10.0, forgetting=None)


def _luminance(rgb):
    return float(np.dot(rgb[:3], [0.2126, 0.7152, 0.0722]))


def _cell_pixel(fig, image, i, j):
    """Pixel (row, column) of ``image`` inside cell (i, j), off the
    centre so that the annotation is missed."""
    x, y = fig.axes[0].transData.transform((j + 0.3, i + 0.3))
    width, height = fig.canvas.get_width_height()
    rows, cols = image.shape[:2]
    return int(round((1 - y / height) * rows)), int(round(x / width * cols))


def test_written_png_cells(tmp_path):
    path = str(tmp_path / 'accuracy_matrix.png')
    save_accuracy_matrix(path, MATRIX, 'accuracy/top1', METRICS)
    image = imread(path)
    # figure of (1 + 0.9 * 2) x (0.8 + 0.8 * 2) inches at 100 dpi, RGBA
    assert image.shape == (240, 280, 4)
    fig = draw_accuracy_matrix(MATRIX, 'accuracy/top1', METRICS)
    fig.canvas.draw()
    pixel = {
        (i, j): image[_cell_pixel(fig, image, i, j)]
        for i in range(2)
        for j in range(2)
    }
    # viridis gets brighter with the value: 90 > 20 > 10
    assert _luminance(pixel[1, 1]) > _luminance(pixel[1, 0]) + 0.3
    assert _luminance(pixel[1, 0]) > _luminance(pixel[0, 0])
    # the lowest value is viridis' dark purple end, the highest its yellow
    assert pixel[0, 0][:3] == pytest.approx([0.267, 0.005, 0.329], abs=0.02)
    assert pixel[1, 1][:3] == pytest.approx([0.993, 0.906, 0.144], abs=0.02)
    # the entry not measured is masked: the white axes background
    assert pixel[0, 1][:3] == pytest.approx([1.0, 1.0, 1.0], abs=1e-6)


def test_annotations_and_title():
    fig = draw_accuracy_matrix(MATRIX, 'accuracy/top1', METRICS)
    ax = fig.axes[0]
    texts = [(t.get_text(), t.get_color()) for t in ax.texts]
    # values in the measured cells; black on the bright cell only
    assert texts == [('10.0', 'white'), ('20.0', 'white'), ('90.0', 'black')]
    assert ax.get_title() == 'ACC 55.00  BWT 10.00  F -'
    assert fig.axes[1].get_ylabel() == 'accuracy/top1'  # the colour bar


@pytest.mark.parametrize('matrix', [[[50.0]], [[None, None], [None, None]]])
def test_degenerate_matrices(matrix):
    fig = draw_accuracy_matrix(matrix)
    image = fig.axes[0].get_images()[0]
    low, high = image.get_clim()
    assert high > low  # a constant (or empty) matrix still has a range
    assert fig.axes[0].get_title() == ''  # no metrics given
