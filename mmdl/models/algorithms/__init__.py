# Copyright (c) mmdl contributors. All rights reserved.
"""Models with their own ``train_step``."""
from .rescl import *  # noqa: F401,F403
