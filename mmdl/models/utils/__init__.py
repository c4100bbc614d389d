# Copyright (c) mmdl contributors. All rights reserved.
from .plugin_insertion import (get_stage_plugins, get_stage_units,
                               infer_in_channels, init_weights_keeping_plugins,
                               insert_stage_plugins, resolve_stages)
from .position_encoding import sinusoid_position_encoding_2d

__all__ = [
    'sinusoid_position_encoding_2d', 'insert_stage_plugins',
    'init_weights_keeping_plugins', 'infer_in_channels', 'get_stage_units',
    'get_stage_plugins', 'resolve_stages'
]
