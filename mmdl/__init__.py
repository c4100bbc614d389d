# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl: seven research methods as OpenMMLab (mmengine/mmpretrain)
components."""
import mmengine
from mmengine.utils import digit_version

from .version import __version__, version_info

mmengine_minimum_version = '0.10.7'
mmengine_maximum_version = '1.0.0'
mmengine_version = digit_version(mmengine.__version__)

if not (digit_version(mmengine_minimum_version) <= mmengine_version <
        digit_version(mmengine_maximum_version)):
    raise ImportError(
        f'mmdl needs mmengine>={mmengine_minimum_version},'
        f'<{mmengine_maximum_version}, but mmengine=={mmengine.__version__} '
        'is installed.')

try:
    import mmcv  # noqa: F401
except ImportError as error:
    raise ImportError(
        'mmdl needs mmcv or mmcv-lite (for mmpretrain). Install '
        '`pip install mmcv-lite==2.2.0` unless you build the full mmcv '
        'yourself (never install both).') from error

# Checkpoint loading that works on torch >= 2.6 and stays weights-only.
from .engine.runner.checkpoint import install_checkpoint_loader  # noqa: E402

install_checkpoint_loader()

__all__ = ['__version__', 'version_info']
