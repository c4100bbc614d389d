# Copyright (c) mmdl contributors. All rights reserved.
"""Version of mmdl."""
from typing import Tuple

__version__ = '0.1.0'


def parse_version_info(version_str: str) -> Tuple:
    """Parse a version string into a tuple.

    Args:
        version_str (str): The version string, e.g. ``'0.1.0'`` or
            ``'0.1.0rc1'``.

    Returns:
        tuple: The version as a tuple, e.g. ``(0, 1, 0)`` or
        ``(0, 1, 0, 'rc1')``.
    """
    version_info = []
    for part in version_str.split('.'):
        if part.isdigit():
            version_info.append(int(part))
        elif 'rc' in part:
            head, _, rc = part.partition('rc')
            version_info.append(int(head))
            version_info.append(f'rc{rc}')
    return tuple(version_info)


version_info = parse_version_info(__version__)
