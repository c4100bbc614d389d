# Copyright (c) mmdl contributors. All rights reserved.
from .config_checks import (ConfigError, check_cfg_options, check_checkpoint,
                            check_data_roots, explain_error)
from .setup_env import register_all_modules

__all__ = [
    'ConfigError', 'check_cfg_options', 'check_checkpoint', 'check_data_roots',
    'explain_error', 'register_all_modules'
]
