# Copyright (c) mmdl contributors. All rights reserved.
from .wrappers import *  # noqa: F401,F403
