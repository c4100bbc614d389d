# Copyright (c) mmdl contributors. All rights reserved.
"""Score IJB-B/C image features computed elsewhere (1:1 verification as
insightface's ``eval_ijbc.py``; see ``IJBVerificationMetric``)::

    python tools/analysis_tools/eval_ijb.py feats.npy --data-root data/IJB \\
        --target IJBC --out-dir work_dirs/ijbc [--halves] [--n0] [--d0]

``feats.npy`` holds one row per line of ``<t>_name_5pts_score.txt``: the
image features (e.g. those ``IJBVerificationMetric(save_features=...)``
wrote), or with ``--halves`` the original image's and its flip's features
side by side, as insightface's script keeps them (summed: "F2").
"""
import argparse
import json
import os.path as osp


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=osp.basename(__file__),
        description='Score IJB-B/C image features (1:1 verification)')
    parser.add_argument('features', help='.npy file of image features')
    parser.add_argument('--data-root', required=True, help='the IJB suite')
    parser.add_argument('--target', default='IJBC', choices=('IJBC',
                                                             'IJBB'))
    parser.add_argument('--out-dir', help='write the ROC (JSON, PNG) here')
    parser.add_argument(
        '--halves',
        action='store_true',
        help='rows are [original | flip] features: sum the halves')
    parser.add_argument(
        '--n0', action='store_true', help='L2-normalise image features')
    parser.add_argument(
        '--d0', action='store_true', help='ignore the faceness scores')
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    from mmdl.evaluation.metrics.ijb_verification import (
        evaluate_feature_file, write_roc)
    try:
        result = evaluate_feature_file(
            args.features,
            args.data_root,
            args.target,
            halves=args.halves,
            normalise=args.n0,
            use_faceness=not args.d0)
    except (OSError, ValueError, KeyError) as error:
        parser.exit(1, f'{parser.prog}: error: {error}\n')
    table = {f'{k:g}': round(100 * v, 2) for k, v in result['tar'].items()}
    print(f'{args.target} TAR (%) at FAR: {json.dumps(table)}; AUC '
          f'{100 * result["auc"]:.2f}%')
    if args.out_dir:
        write_roc(args.out_dir, args.target.lower(), result)
        print(f'ROC written to {args.out_dir}')
    return result


if __name__ == '__main__':
    main()
