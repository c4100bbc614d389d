# Copyright (c) mmdl contributors. All rights reserved.
import pytest

from mmdl.utils.config_checks import ConfigError, check_data_roots


def test_missing_data_root_inside_a_task_dataset_list(tmp_path):
    existing, missing = tmp_path, tmp_path / 'no_cub'
    cfg = dict(
        train_dataloader=dict(
            dataset=dict(
                type='TaskDataset',
                dataset=[
                    dict(type='mmpretrain.ImageNet', data_root=str(existing)),
                    dict(type='mmpretrain.CUB', data_root=str(missing)),
                ])))
    with pytest.raises(ConfigError) as error:
        check_data_roots(cfg)
    assert (f"train_dataloader.dataset.dataset.1.data_root: directory "
            f"'{missing}' does not exist (dataset mmpretrain.CUB)"
            ) == str(error.value)
    cfg['train_dataloader']['dataset']['dataset'][1]['data_root'] = str(
        existing)
    check_data_roots(cfg)
