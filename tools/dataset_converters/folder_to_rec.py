# Copyright (c) mmdl contributors. All rights reserved.
"""Convert an ``<identity>/<image>`` folder to insightface's MXNet RecordIO
layout (``train.rec``, ``train.idx``, ``property``), read by
``MXFaceDataset`` (no mxnet needed)::

    python tools/dataset_converters/folder_to_rec.py data/faces \\
        data/faces_rec [--quality 95] [--reencode]

Class ids are those of mmpretrain's ``CustomDataset`` on the folder (the
sorted subfolder names), images are sorted by name within each class.
JPEG and PNG files are stored unchanged; other formats (and all images with
``--reencode``) are re-encoded as JPEG of ``--quality``. All images must
have one size. The logic is :func:`mmdl.datasets.face.folder_to_rec`.
"""
import argparse
import os.path as osp


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog=osp.basename(__file__),
        description='Convert an <identity>/<image> folder to insightface\'s '
        'RecordIO layout (train.rec, train.idx, property)')
    parser.add_argument('folder', help='image folder: <identity>/<image>')
    parser.add_argument(
        'out_dir', help='output folder (created; not inside FOLDER)')
    parser.add_argument(
        '--quality',
        type=int,
        default=95,
        help='JPEG quality of re-encoded images (default: 95)')
    parser.add_argument(
        '--reencode',
        action='store_true',
        help='re-encode every image as JPEG (default: keep JPEG and PNG '
        'files as they are)')
    return parser, parser.parse_args(argv)


def main(argv=None):
    parser, args = parse_args(argv)
    from mmdl.datasets.face import folder_to_rec
    try:
        stats = folder_to_rec(
            args.folder,
            args.out_dir,
            quality=args.quality,
            reencode=args.reencode)
    except (OSError, ValueError) as error:
        parser.exit(1, f'{parser.prog}: error: {error}\n')
    height, width = stats['image_size']
    print(f'{args.out_dir}: {stats["num_images"]} images of '
          f'{stats["num_classes"]} classes, {height}x{width} (height x '
          f'width), {stats["reencoded"]} re-encoded as JPEG')
    if stats['empty_classes']:
        print(f'classes without images (kept, empty): '
              f'{", ".join(stats["empty_classes"])}')


if __name__ == '__main__':
    main()
