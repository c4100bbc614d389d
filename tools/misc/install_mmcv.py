# Copyright (c) mmdl contributors. All rights reserved.
"""Install mmcv-lite only where no mmcv distribution is present.

mmpretrain needs ``mmcv`` (the full package with compiled CUDA ops, which
has no binary wheel on PyPI and is usually built by the user) or
``mmcv-lite`` (pure Python). The two must never be installed together, and a
user's compiled ``mmcv`` must not be overwritten, so mmcv is not an install
requirement of mmdl; ``make`` runs this script instead.

Usage: ``python tools/misc/install_mmcv.py [--dry-run]``. Only the standard
library is used, so it runs before anything else is installed.
"""
import argparse
import subprocess
import sys
from importlib import metadata
from typing import Dict, Optional, Tuple

#: What mmdl installs when no mmcv is present.
MMCV_LITE_REQUIREMENT = 'mmcv-lite==2.2.0'
#: mmpretrain 1.2 accepts 2.0.0 <= mmcv < 2.4.0.
SUPPORTED = ((2, 0, 0), (2, 4, 0))


def _version_tuple(version: str) -> Tuple[int, ...]:
    parts = []
    for part in version.split('.')[:3]:
        digits = ''.join(c for c in part if c.isdigit()) or '0'
        parts.append(int(digits))
    return tuple(parts + [0] * (3 - len(parts)))


def installed_mmcv_distributions() -> Dict[str, str]:
    """The mmcv-like distributions installed in this environment.

    Returns:
        dict: Distribution name (``mmcv``, ``mmcv-full``, ``mmcv-lite``) to
        version, for those that are installed.
    """
    found = {}
    for name in ('mmcv', 'mmcv-full', 'mmcv-lite'):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def decide(installed: Dict[str, str]) -> Tuple[Optional[str], str]:
    """Decide what to install given the installed mmcv distributions.

    Args:
        installed (dict): Distribution name to version, as returned by
            :func:`installed_mmcv_distributions`.

    Returns:
        tuple: ``(requirement, reason)``; ``requirement`` is the pip
        requirement to install, or None to install nothing.

    Raises:
        RuntimeError: If the environment holds an mmcv that mmpretrain 1.2
            cannot use (``mmcv-full`` 1.x, or a version out of range), or
            both ``mmcv`` and ``mmcv-lite``. Nothing is changed then: the
            user decides.
    """
    if 'mmcv' in installed and 'mmcv-lite' in installed:
        raise RuntimeError(
            f"both mmcv=={installed['mmcv']} and mmcv-lite=="
            f"{installed['mmcv-lite']} are installed; they overwrite each "
            'other. Uninstall one of them (keep mmcv if you built it).')
    if 'mmcv-full' in installed and 'mmcv' not in installed:
        raise RuntimeError(
            f"mmcv-full=={installed['mmcv-full']} (mmcv 1.x) is installed; "
            'mmpretrain 1.2 needs mmcv>=2.0.0,<2.4.0. Uninstall mmcv-full, '
            'then rerun this script (it installs mmcv-lite) or install '
            'mmcv 2.x yourself.')
    low, high = SUPPORTED
    for name in ('mmcv', 'mmcv-lite'):
        if name in installed:
            version = _version_tuple(installed[name])
            if not low <= version < high:
                raise RuntimeError(
                    f'{name}=={installed[name]} is installed, but mmpretrain '
                    '1.2 needs >=2.0.0,<2.4.0; replace it yourself (mmdl '
                    'does not touch an existing mmcv).')
            return None, f'{name}=={installed[name]} is already installed'
    return MMCV_LITE_REQUIREMENT, 'no mmcv distribution is installed'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print the decision, install nothing')
    args = parser.parse_args(argv)
    try:
        requirement, reason = decide(installed_mmcv_distributions())
    except RuntimeError as error:
        print(f'install_mmcv.py: error: {error}', file=sys.stderr)
        return 1
    if requirement is None:
        print(f'install_mmcv.py: {reason}; nothing to install.')
        return 0
    print(f'install_mmcv.py: {reason}; installing {requirement}.')
    if args.dry_run:
        return 0
    return subprocess.call(
        [sys.executable, '-m', 'pip', 'install', requirement])


if __name__ == '__main__':
    sys.exit(main())
