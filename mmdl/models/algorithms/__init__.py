# Copyright (c) mmdl contributors. All rights reserved.
"""Models with their own ``train_step``."""
from .dtl import *  # noqa: F401,F403
from .dtl import __all__ as _dtl
from .nas import *  # noqa: F401,F403
from .nas import __all__ as _nas
from .rescl import *  # noqa: F401,F403
from .rescl import __all__ as _rescl

# explicit, so that ``from .algorithms import *`` in mmdl.models does not
# re-export the sub-packages (``nas`` would hide mmdl.models.nas)
__all__ = list(_dtl) + list(_nas) + list(_rescl)
