# Copyright (c) mmdl contributors. All rights reserved.
"""Packaging of mmdl.

mmcv is deliberately not an install requirement: mmpretrain needs either the
full, compiled ``mmcv`` or the pure-Python ``mmcv-lite``, and the two must
never be installed together. ``pip install mmdl[lite]`` adds mmcv-lite
explicitly; ``make`` runs ``tools/misc/install_mmcv.py``, which installs
mmcv-lite only where no mmcv distribution is present.
"""
import os.path as osp
import re
from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def get_version() -> str:
    """Read ``__version__`` from ``mmdl/version.py``."""
    with open(osp.join(HERE, 'mmdl', 'version.py'), encoding='utf-8') as f:
        return re.search(r"__version__ = '([^']+)'", f.read()).group(1)


def parse_requirements(fname: str) -> list:
    """Requirements of a file, following ``-r`` includes; comments and pip
    options are dropped."""
    requirements = []
    with open(osp.join(HERE, fname), encoding='utf-8') as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                included = osp.join(osp.dirname(fname), line[3:].strip())
                requirements += parse_requirements(included)
            elif not line.startswith('-'):
                requirements.append(line)
    return requirements


def readme() -> str:
    with open(osp.join(HERE, 'README.md'), encoding='utf-8') as f:
        return f.read()


if __name__ == '__main__':
    setup(
        name='mmdl',
        version=get_version(),
        description='Seven research methods as OpenMMLab components',
        long_description=readme(),
        long_description_content_type='text/markdown',
        keywords='computer vision, continual learning, face recognition, '
        'neural architecture search, openmmlab',
        packages=find_packages(exclude=('configs', 'tools', 'tests')),
        include_package_data=True,
        python_requires='>=3.8',
        classifiers=[
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.11',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        license='Apache License 2.0',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'all': parse_requirements('requirements.txt'),
            'tests': parse_requirements('requirements/tests.txt'),
            'optional': parse_requirements('requirements/optional.txt'),
            'lite': ['mmcv-lite>=2.0.0,<2.4.0'],
            'mim': parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
