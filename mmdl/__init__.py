# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl: research methods of one group as OpenMMLab (mmengine/mmpretrain)
components.

Importing mmdl makes
:func:`~mmdl.engine.runner.checkpoint.load_checkpoint_file` mmengine's loader
of local checkpoints for the whole process; set
``MMDL_NO_CHECKPOINT_LOADER=1`` before the import to keep mmengine's.
"""
import warnings

# mmcv-lite warns on every import of mmcv.cnn.bricks.transformer that it
# lacks the compiled ``MultiScaleDeformableAttention`` op. mmdl never uses
# it, so hide exactly that warning (installed before anything imports
# mmcv); every other warning is still shown.
warnings.filterwarnings(
    'ignore',
    message=r'Fail to import ``MultiScaleDeformableAttention`` from '
    r'``mmcv\.ops\.multi_scale_deform_attn``',
    category=UserWarning,
    module=r'mmcv\.cnn\.bricks\.transformer$')

import mmengine  # noqa: E402
from mmengine.utils import digit_version  # noqa: E402

from .version import __version__, version_info  # noqa: E402

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

# Side effect: mmengine's loader for local checkpoints becomes mmdl's
# weights-only loader for every runner in the process (it makes --resume
# work on torch >= 2.6). MMDL_NO_CHECKPOINT_LOADER=1 keeps mmengine's;
# mmdl.engine.runner.checkpoint.uninstall_checkpoint_loader() restores it.
from .engine.runner.checkpoint import (  # noqa: E402
    checkpoint_loader_disabled, install_checkpoint_loader)

if not checkpoint_loader_disabled():
    install_checkpoint_loader()

__all__ = ['__version__', 'version_info']
