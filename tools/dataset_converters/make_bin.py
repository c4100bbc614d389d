# Copyright (c) mmdl contributors. All rights reserved.
"""Build a ``.bin`` face verification set (insightface's format, read by
``BinVerificationDataset``) from a pairs list and an image folder::

    python tools/dataset_converters/make_bin.py pairs.txt data/faces \\
        data/my_set.bin [--size 112] [--quality 95]

The pairs list has one pair per line, ``<image 1> <image 2> <label>``,
paths relative to the image folder, label 1 for the same identity and 0
for different ones. Images of ``--size`` x ``--size`` pixels (aligned
faces) are stored as they are; others are resized and stored as JPEG. The
logic is :func:`mmdl.datasets.face.make_bin`.
"""
import argparse
import os.path as osp


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=osp.basename(__file__),
        description='Build a .bin verification set from a pairs list and '
        'an image folder')
    parser.add_argument('pairs', help='pairs list: "<img1> <img2> <0|1>"')
    parser.add_argument('image_root', help='folder the paths start from')
    parser.add_argument('out', help='the .bin file to write')
    parser.add_argument(
        '--size', type=int, default=112, help='image side (default: 112)')
    parser.add_argument(
        '--quality',
        type=int,
        default=95,
        help='JPEG quality of resized images (default: 95)')
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    from mmdl.datasets.face import make_bin, read_pairs_list
    try:
        stats = make_bin(
            read_pairs_list(args.pairs),
            args.image_root,
            args.out,
            size=args.size,
            quality=args.quality)
    except (OSError, ValueError) as error:
        parser.exit(1, f'{parser.prog}: error: {error}\n')
    print(f'{args.out}: {stats["pairs"]} pairs ({stats["same"]} same), '
          f'{stats["reencoded"]} image(s) resized to '
          f'{args.size}x{args.size}')
    return stats


if __name__ == '__main__':
    main()
