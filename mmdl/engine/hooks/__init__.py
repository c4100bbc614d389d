# Copyright (c) mmdl contributors. All rights reserved.
"""Hooks of mmdl (method-specific hooks such as ``KFACBNHook`` live here)."""
__all__: list = []
