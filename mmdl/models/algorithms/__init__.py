# Copyright (c) mmdl contributors. All rights reserved.
"""Models with their own ``train_step``."""
from .dtl import *  # noqa: F401,F403
from .rescl import *  # noqa: F401,F403
