# Copyright (c) mmdl contributors. All rights reserved.
"""The accuracy-matrix heat map: the written PNG's size, the cell colours
on the fixed 0-100 scale (blank where not measured), the task labels, the
annotations and the title, and the run name the continual evaluator puts
in the title."""
import logging
import os.path as osp
from types import SimpleNamespace

import matplotlib
import pytest
from matplotlib.image import imread
from mmengine.config import Config
from mmengine.logging import MessageHub

from mmdl.engine.loops import continual_evaluator
from mmdl.visualization import draw_accuracy_matrix, save_accuracy_matrix

MATRIX = [[10.0, None], [20.0, 90.0]]
METRICS = dict(ACC=55.0, BWT=10.0, forgetting=None)


def _viridis(percent):
    """Colour of ``percent`` on a 0-100 viridis scale."""
    return list(matplotlib.colormaps['viridis'](percent / 100.0)[:3])


def _cell_pixel(fig, image, i, j):
    """Pixel (row, column) of ``image`` inside cell (i, j), off the
    centre so that the annotation is missed."""
    x, y = fig.axes[0].transData.transform((j + 0.3, i + 0.3))
    width, height = fig.canvas.get_width_height()
    rows, cols = image.shape[:2]
    return int(round((1 - y / height) * rows)), int(round(x / width * cols))


def _cells(tmp_path, name, matrix, metrics=None):
    """Written PNG and the RGB of each cell."""
    path = str(tmp_path / f'{name}.png')
    save_accuracy_matrix(path, matrix, 'accuracy/top1', metrics)
    image = imread(path)
    fig = draw_accuracy_matrix(matrix, 'accuracy/top1', metrics)
    fig.canvas.draw()
    size = len(matrix)
    return image, {
        (i, j): image[_cell_pixel(fig, image, i, j)][:3]
        for i in range(size)
        for j in range(size)
    }


def test_written_png_cells_on_a_fixed_scale(tmp_path):
    image, pixel = _cells(tmp_path, 'matrix', MATRIX, METRICS)
    # figure of (2.4 + 0.9 * 2) x (1.1 + 0.8 * 2) inches at 100 dpi, RGBA
    assert image.shape == (270, 420, 4)
    # colours of the values on 0..100, not stretched to the values' range
    for (i, j), value in {(0, 0): 10.0, (1, 0): 20.0, (1, 1): 90.0}.items():
        assert list(pixel[i, j]) == pytest.approx(_viridis(value), abs=0.02)
    # the entry not measured is masked: the white axes background
    assert list(pixel[0, 1]) == pytest.approx([1.0, 1.0, 1.0], abs=1e-6)
    # the same value has the same colour in another run's plot
    _, other = _cells(tmp_path, 'other', [[90.0, None], [95.0, 99.0]])
    assert list(other[0, 0]) == pytest.approx(list(pixel[1, 1]), abs=0.01)


@pytest.mark.parametrize('matrix',
                         [MATRIX, [[50.0]], [[None, None], [None, None]]])
def test_colour_limits_and_bar(matrix):
    fig = draw_accuracy_matrix(matrix, 'accuracy/top5')
    assert fig.axes[0].get_images()[0].get_clim() == (0.0, 100.0)
    bar = fig.axes[1]  # the colour bar
    assert bar.get_ylabel() == 'accuracy/top5'
    assert bar.get_ylim() == (0.0, 100.0)
    assert fig.axes[0].get_title() == ''  # neither a name nor metrics


def test_task_labels():
    fig = draw_accuracy_matrix([[None] * 3 for _ in range(3)])
    ax = fig.axes[0]
    tasks = ['Task 0', 'Task 1', 'Task 2']
    assert [t.get_text() for t in ax.get_xticklabels()] == tasks
    assert [t.get_text() for t in ax.get_yticklabels()] == tasks
    assert list(ax.get_xticks()) == [0, 1, 2]
    assert list(ax.get_yticks()) == [0, 1, 2]
    assert ax.get_xlabel() == 'evaluated on task'
    assert ax.get_ylabel() == 'after training task'


def test_annotations_and_title():
    fig = draw_accuracy_matrix(
        MATRIX, 'accuracy/top1', METRICS, title='lenet5_1xb32-40e_digits')
    ax = fig.axes[0]
    texts = [(t.get_text(), t.get_color()) for t in ax.texts]
    # values in the measured cells; black on the bright (> 60) cell only
    assert texts == [('10.0', 'white'), ('20.0', 'white'), ('90.0', 'black')]
    assert ax.get_title() == ('lenet5_1xb32-40e_digits\n'
                              'ACC 55.00  BWT 10.00  F -')
    assert draw_accuracy_matrix(
        MATRIX, title='run').axes[0].get_title() == 'run'


@pytest.mark.parametrize('config, expected',
                         [('digits_bs32.py', 'digits_bs32'),
                          (None, 'exp_20240101_000000')])
def test_evaluator_titles_the_plot_with_the_config(tmp_path, monkeypatch,
                                                   repo_root, config,
                                                   expected):
    """The config file's stem; the experiment name for a config built
    from a dict."""
    cfg = (
        Config(dict(a=1)) if config is None else Config.fromfile(
            osp.join(repo_root, 'configs', '_base_', 'datasets', config)))
    calls = []
    monkeypatch.setattr(continual_evaluator, 'save_accuracy_matrix',
                        lambda *args, **kwargs: calls.append(kwargs))
    name = f'test_accuracy_matrix_title_{expected}'
    runner = SimpleNamespace(
        logger=logging.getLogger(name),
        message_hub=MessageHub.get_instance(name),
        visualizer=SimpleNamespace(add_scalars=lambda *args, **kwargs: None),
        work_dir=str(tmp_path),
        epoch=1,
        cfg=cfg,
        experiment_name='exp_20240101_000000')
    continual_evaluator.ContinualEvaluator().report(
        runner, 0, [[80.0, None], [None, None]])
    assert [call['title'] for call in calls] == [expected]
