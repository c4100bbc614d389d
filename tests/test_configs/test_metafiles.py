# Copyright (c) mmdl contributors. All rights reserved.
"""Every method folder of configs/ has a README.md and an mmpretrain-style
metafile.yml that lists each of its configs once, and every result in the
metafile is a number of the folder's README (so the two cannot drift)."""
import glob
import os.path as osp
import re
from typing import List, Set

import pytest
import yaml

from conftest import REPO_ROOT

#: Numbers as READMEs write them: 97.50, -43.18, 1,437, −0.4 (Unicode minus).
NUMBER = re.compile(r'[-\u2212]?\d[\d,]*(?:\.\d+)?')


def method_dirs(root: str) -> List[str]:
    """The folders of ``root/configs`` that hold configs (not ``_base_``)."""
    return sorted({
        osp.dirname(p)
        for p in glob.glob(osp.join(root, 'configs', '*', '*.py'))
        if osp.basename(osp.dirname(p)) != '_base_'
    })


def table_numbers(readme: str) -> Set[float]:
    """Every number in the table rows of a markdown file."""
    numbers = set()
    for line in readme.splitlines():
        if line.lstrip().startswith('|'):
            for text in NUMBER.findall(line):
                text = text.replace(',', '').replace('\u2212', '-')
                numbers.add(float(text))
    return numbers


def metafile_problems(folder: str, root: str) -> List[str]:
    """What is wrong with the README.md / metafile.yml pair of a folder.

    Args:
        folder (str): The config folder.
        root (str): The repository root (paths in the metafile are relative
            to it).

    Returns:
        list[str]: One line per problem; empty when all is well.
    """
    name = osp.relpath(folder, root)
    readme_path = osp.join(folder, 'README.md')
    meta_path = osp.join(folder, 'metafile.yml')
    problems = [
        f'{name}: no {osp.basename(p)}' for p in (readme_path, meta_path)
        if not osp.isfile(p)
    ]
    if problems:
        return problems
    with open(readme_path, encoding='utf-8') as f:
        numbers = table_numbers(f.read())
    with open(meta_path, encoding='utf-8') as f:
        meta = yaml.safe_load(f)

    collections = {}
    for coll in meta.get('Collections') or []:
        collections[coll.get('Name')] = coll
        for key in ('Paper', 'Code'):
            if not (coll.get(key) or {}).get('URL'):
                problems.append(f'{name}: collection {coll.get("Name")!r} '
                                f'has no {key}.URL')
        for value in (coll.get('README'), (coll.get('Code') or {}).get('URL')):
            if (isinstance(value, str) and not value.startswith('http')
                    and not osp.exists(osp.join(root, value))):
                problems.append(f'{name}: {value} does not exist')
    if not collections:
        problems.append(f'{name}: no Collections')

    configs = {
        osp.relpath(p, root)
        for p in glob.glob(osp.join(folder, '*.py'))
        if osp.basename(p) != '__init__.py'
    }
    listed = {}
    for model in meta.get('Models') or []:
        label = model.get('Name')
        config = model.get('Config')
        listed.setdefault(config, []).append(label)
        if model.get('In Collection') not in collections:
            problems.append(f'{name}: model {label!r} is in no collection '
                            'of the metafile')
        if not config or not osp.isfile(osp.join(root, config)):
            problems.append(f'{name}: model {label!r}: config {config} '
                            'does not exist')
        results = model.get('Results') or []
        if model.get('Weights') and not results:
            problems.append(f'{name}: model {label!r} has weights but no '
                            'results')
        for result in results:
            for metric, value in (result.get('Metrics') or {}).items():
                if float(value) not in numbers:
                    problems.append(
                        f'{name}: model {label!r}: {metric} = {value} is '
                        'not a number of the README tables')
    for config in sorted(configs):
        count = len(listed.get(config, []))
        if count != 1:
            problems.append(f'{name}: {config} has {count} Models entries '
                            '(expected exactly one)')
    for config in sorted(set(listed) - configs):
        problems.append(f'{name}: Models entry for {config}, which is not a '
                        'config of the folder')
    return problems


FOLDERS = method_dirs(REPO_ROOT)


def test_method_folders_found():
    names = {osp.basename(f) for f in FOLDERS}
    assert {'quickstart', 'scaled_nonlocal', 'xkfac'} <= names


@pytest.mark.parametrize('folder', FOLDERS, ids=osp.basename)
def test_readme_and_metafile_agree(folder):
    problems = metafile_problems(folder, REPO_ROOT)
    assert not problems, '\n'.join(problems)


def test_metafile_check_finds_drift(tmp_path):
    folder = tmp_path / 'configs' / 'method'
    folder.mkdir(parents=True)
    (tmp_path / 'code.py').write_text('')
    for config in ('a_quick.py', 'b.py', 'c.py'):
        (folder / config).write_text('')
    (folder / 'README.md').write_text(
        '# Method\n\nMeasured: 12.50 in a sentence, not a table.\n\n'
        '| Config | Top-1 (%) | BWT |\n|---|---|---|\n'
        '| `a_quick.py` | 97.50 | \u22121.25 |\n')
    (folder / 'metafile.yml').write_text("""
Collections:
  - Name: Method
    Paper: {URL: 'https://arxiv.org/abs/0000.00000', Title: T}
    README: configs/method/README.md
    Code: {URL: code.py}
Models:
  - Name: a_quick
    In Collection: Method
    Config: configs/method/a_quick.py
    Results:
      - Task: Image Classification
        Dataset: D
        Metrics: {Top 1 Accuracy: 97.5, BWT: -1.25}
  - Name: b
    In Collection: Method
    Config: configs/method/b.py
    Results:
      - Task: Image Classification
        Dataset: D
        Metrics: {Top 1 Accuracy: 12.5}
  - Name: b_again
    In Collection: Other
    Config: configs/method/b.py
  - Name: gone
    In Collection: Method
    Config: configs/method/gone.py
""")
    problems = metafile_problems(str(folder), str(tmp_path))
    joined = '\n'.join(problems)
    assert len(problems) == 6, joined
    assert "'b': Top 1 Accuracy = 12.5 is not a number" in joined
    assert "'b_again' is in no collection" in joined
    assert 'configs/method/b.py has 2 Models entries' in joined
    assert 'configs/method/c.py has 0 Models entries' in joined
    assert "'gone': config configs/method/gone.py does not exist" in joined
    assert 'Models entry for configs/method/gone.py' in joined
    (folder / 'README.md').unlink()
    assert metafile_problems(
        str(folder), str(tmp_path)) == ['configs/method: no README.md']
