# Copyright (c) mmdl contributors. All rights reserved.
"""Derive the genotype of an architecture search checkpoint: print it,
write it as JSON (the DARTS genotype format) and draw its cells as a PNG.

The genotype is the model's ``genotype()``: for
:class:`~mmdl.models.ArchSearchClassifier` the DARTS derivation of the
architecture parameters (two strongest inputs per node, best operation
other than ``none``). With ``--genotype`` instead of a config and a
checkpoint, a published genotype (``DARTS_V1``, ``DARTS_V2``) or a JSON
file is drawn.

Example::

    CFG=configs/edas/edas_search-5c8_1xb64-10e_digits_quick.py
    python tools/train.py $CFG
    python tools/analysis_tools/derive_genotype.py $CFG \\
        work_dirs/edas_search-5c8_1xb64-10e_digits_quick/epoch_10.pth \\
        --out-dir work_dirs/edas_search-5c8_1xb64-10e_digits_quick/derived
    python tools/analysis_tools/derive_genotype.py --genotype DARTS_V2 \\
        --out-dir work_dirs/darts_v2
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.registry import init_default_scope

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.engine.runner.state_match import (CheckpointMismatchError,
                                            checkpoint_state_dict,
                                            compare_state_dicts)
from mmdl.models.nas import (Genotype, dump_genotype, format_genotype,
                             load_genotype)
from mmdl.utils import ConfigError
from mmdl.utils.cli import friendly_errors, load_config
from mmdl.visualization import save_genotype


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', help='search config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file')
    parser.add_argument(
        '--genotype',
        help='draw this genotype instead: a published name (DARTS_V2) or '
        'a JSON file')
    parser.add_argument('--out-dir', required=True, help='output directory')
    parser.add_argument(
        '--no-draw', action='store_true', help='do not draw the cells')
    args = parser.parse_args(argv)
    if (args.genotype is None) == (args.checkpoint is None):
        parser.error('give CONFIG and CHECKPOINT, or --genotype')
    return args


def search_genotype(config: str, checkpoint: str) -> Genotype:
    """The genotype of a search model built from ``config`` with the
    weights of ``checkpoint``."""
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'mmdl'))
    from mmdl.registry import MODELS
    model = MODELS.build(cfg.model)
    if not callable(getattr(model, 'genotype', None)):
        raise ConfigError(f'{config}: the model ({type(model).__name__}) '
                          'has no genotype(); expected an architecture '
                          'search such as ArchSearchClassifier')
    state = checkpoint_state_dict(
        load_checkpoint_file(checkpoint, map_location='cpu'),
        [(r'^module\.', '')])
    mismatch = compare_state_dicts(model.state_dict(), state)
    if mismatch:
        raise CheckpointMismatchError(
            checkpoint, mismatch,
            type(model).__name__, config, 'nothing derived',
            'give the config of the search that wrote it')
    model.load_state_dict(state)
    return model.genotype()


def main(argv: Optional[Sequence[str]] = None) -> Genotype:
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__)):
        if args.genotype is not None:
            genotype = load_genotype(args.genotype)
            title = osp.basename(args.genotype)
        else:
            genotype = search_genotype(args.config, args.checkpoint)
            title = osp.basename(args.checkpoint)
        path = osp.join(args.out_dir, 'genotype.json')
        dump_genotype(genotype, path)
        print(format_genotype(genotype))
        print(f'genotype: {path}')
        if not args.no_draw:
            png = osp.join(args.out_dir, 'genotype.png')
            save_genotype(png, genotype, title=title)
            print(f'cells: {png}')
    return genotype


if __name__ == '__main__':
    main()
