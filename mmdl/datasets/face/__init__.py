# Copyright (c) mmdl contributors. All rights reserved.
"""Face-recognition data: insightface's MXNet RecordIO training sets
(``train.rec``, ``train.idx``, ``property``) read and written without
mxnet, the ``.bin`` verification sets, the IJB-B/C test suite, masked-face
(ICCV2021-MFR) list files and 5-point alignment."""
from .alignment import (ARCFACE_TEMPLATE, align_face, estimate_similarity,
                        landmarks_68_to_5)
from .bin_verification import BinVerificationDataset, load_bin
from .bin_writer import make_bin, read_pairs_list, write_bin
from .converters import folder_classes, folder_to_rec, write_rec
from .digits_faces import prepare_data, write_digits_face_set
from .ijb import IJBDataset, read_pairs
from .mask_synthesis import (FACE_MASK_COLOR_PROBS, FACE_MASK_COLORS,
                             FACE_MASK_SHAPES, face_region, mask_polygon,
                             render_face_mask, template_landmarks)
from .mfr import MFRDataset, read_mfr_list
from .mxface import MXFaceDataset, decode_image, image_format
from .recordio import (IRHeader, RecordIOError, RecordIOReader,
                       RecordIOWriter, pack_record, read_index,
                       read_property, unpack_record)

__all__ = [
    'MXFaceDataset', 'RecordIOReader', 'RecordIOWriter', 'RecordIOError',
    'IRHeader', 'pack_record', 'unpack_record', 'read_index',
    'read_property', 'decode_image', 'image_format', 'folder_to_rec',
    'folder_classes', 'write_rec', 'ARCFACE_TEMPLATE', 'align_face',
    'estimate_similarity', 'landmarks_68_to_5', 'BinVerificationDataset',
    'load_bin', 'IJBDataset', 'read_pairs', 'make_bin', 'read_pairs_list',
    'write_bin', 'prepare_data', 'write_digits_face_set', 'MFRDataset',
    'read_mfr_list', 'mask_polygon', 'render_face_mask', 'face_region',
    'template_landmarks', 'FACE_MASK_COLORS', 'FACE_MASK_COLOR_PROBS',
    'FACE_MASK_SHAPES'
]
