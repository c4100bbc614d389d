# Copyright (c) mmdl contributors. All rights reserved.
from .checkpoint_files import CheckpointFileError, check_checkpoint_file
from .config_checks import (ConfigError, check_cfg_options, check_checkpoint,
                            check_data_roots, explain_error)
from .preflight import check_config, check_train_cfg
from .setup_env import register_all_modules
from .type_checks import check_types

__all__ = [
    'CheckpointFileError', 'ConfigError', 'check_cfg_options',
    'check_checkpoint', 'check_checkpoint_file', 'check_config',
    'check_data_roots', 'check_train_cfg', 'check_types', 'explain_error',
    'register_all_modules'
]
