# Copyright (c) mmdl contributors. All rights reserved.
"""Continual-learning metrics against hand-computed values."""
import math

import numpy as np
import pytest

from mmdl.evaluation.metrics import (accuracy_matrix_to_array,
                                     average_accuracy, backward_transfer,
                                     continual_metrics, forgetting,
                                     row_averages)

# R[i][j]: accuracy on task j after training task i
FORGETFUL = [[90, None, None], [80, 85, None], [70, 75, 95]]
# positive backward transfer on task 0 after task 1, then some forgetting
MIXED = [[50, None, None], [60, 70, None], [55, 65, 80]]


def test_forgetful_sequence():
    # ACC = (70 + 75 + 95) / 3
    assert average_accuracy(FORGETFUL) == pytest.approx(80.0)
    # BWT = ((70 - 90) + (75 - 85)) / 2
    assert backward_transfer(FORGETFUL) == pytest.approx(-15.0)
    # F = (max(90 - 70, 80 - 70) + (85 - 75)) / 2
    assert forgetting(FORGETFUL) == pytest.approx(15.0)
    # A_i = mean_{j <= i} R[i][j]
    assert row_averages(FORGETFUL) == pytest.approx([90.0, 82.5, 80.0])


def test_forgetting_uses_the_best_earlier_accuracy():
    assert average_accuracy(MIXED) == pytest.approx(200 / 3)
    # BWT = ((55 - 50) + (65 - 70)) / 2 = 0: gains hide losses
    assert backward_transfer(MIXED) == pytest.approx(0.0)
    # F = (max(50 - 55, 60 - 55) + (70 - 65)) / 2: the peak counts
    assert forgetting(MIXED) == pytest.approx(5.0)
    assert row_averages(MIXED) == pytest.approx([50.0, 65.0, 200 / 3])


def test_continual_metrics_dict_and_numpy_input():
    array = np.array(FORGETFUL, dtype=float)  # None -> nan
    assert np.isnan(array[0, 1])
    for matrix in (FORGETFUL, array):
        metrics = continual_metrics(matrix)
        assert metrics['ACC'] == pytest.approx(80.0)
        assert metrics['BWT'] == pytest.approx(-15.0)
        assert metrics['forgetting'] == pytest.approx(15.0)
        assert metrics['row_averages'] == pytest.approx([90.0, 82.5, 80.0])


def test_leading_block_gives_metrics_after_an_earlier_task():
    block = [row[:2] for row in FORGETFUL[:2]]
    metrics = continual_metrics(block)
    assert metrics['ACC'] == pytest.approx(82.5)
    assert metrics['BWT'] == pytest.approx(-10.0)
    assert metrics['forgetting'] == pytest.approx(10.0)


def test_single_task_and_empty():
    metrics = continual_metrics([[42.0]])
    assert metrics == dict(
        ACC=42.0, BWT=None, forgetting=None, row_averages=[42.0])
    assert continual_metrics([]) == dict(
        ACC=None, BWT=None, forgetting=None, row_averages=[])


def test_missing_row_is_skipped():
    # row 0 not evaluated (val_begin_task=1)
    matrix = [[None, None, None], [80, 85, None], [70, 75, 95]]
    # only j = 1 has R[j][j]
    assert backward_transfer(matrix) == pytest.approx(-10.0)
    # j = 0: max over the measured rows, 80 - 70
    assert forgetting(matrix) == pytest.approx(10.0)
    assert row_averages(matrix) == [None, 82.5, 80.0]


def test_conversion_and_shape_check():
    array = accuracy_matrix_to_array(FORGETFUL)
    assert array.dtype == np.float64 and array.shape == (3, 3)
    assert math.isnan(array[1, 2]) and array[2, 1] == 75
    with pytest.raises(ValueError, match='square'):
        accuracy_matrix_to_array([[1, 2]])
