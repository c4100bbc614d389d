# Copyright (c) mmdl contributors. All rights reserved.
"""Visualizers of mmdl (attention maps, accuracy matrices, ...)."""
__all__: list = []
