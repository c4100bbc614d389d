# Quick demo of masked face recognition on the miniature digits face set of
# the face-recognition quick config (10 "identities", 112x112, RecordIO and
# .bin, written into data/cache/digits_faces on first use): the narrow
# IResNet-18 (width 8, 128-d) with the ComplementaryAttention neck at the
# 14x14 stage (partition, mask and background focus), synthetic masks on
# half of the training images, 10 epochs of 23 steps of 64 (230 steps).
# Validation every 2 epochs on the 300 held-out pairs, plain and with the
# second image of each pair masked (verification/heldout and
# verification/heldout_masked). A checkpoint per epoch, all kept, so that
# tools/analysis_tools/analyze_attention.py can compare the first and the
# last (the mask map's IoU with the synthetic mask).
_base_ = [
    '../face_recognition/arcface_iresnet18-w8_1xb64-10e_digits-faces_quick.py'
]

# the neck's defaults, those of _base_/models/mfsa_iresnet50.py
model = dict(
    type='MaskedFaceRecognizer',
    neck=dict(_delete_=True, type='ComplementaryAttention'))

data_root = 'data/cache/digits_faces'
prepare = dict(type='write_digits_face_set')
bin_meta_keys = ('sample_idx', 'pair_index', 'issame', 'dataset_name')
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='RandomFaceMask', prob=0.5),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='mmpretrain.PackInputs', algorithm_keys=('gt_seg_map', )),
    ]))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(
                type='BinVerificationDataset',
                data_root=data_root,
                ann_file='heldout.bin',
                name='heldout' + suffix,
                prepare=prepare,
                pipeline=pipeline) for suffix, pipeline in (
                    ('', []),
                    ('_masked', [
                        dict(
                            type='RandomFaceMask',
                            prob=1.0,
                            condition_key='probe',
                            seed=0)
                    ]))
        ]))
# mmpretrain's PackInputs last in every val pipeline
for _ds in val_dataloader['dataset']['datasets']:
    _ds['pipeline'] = _ds['pipeline'] + [
        dict(type='mmpretrain.PackInputs', meta_keys=bin_meta_keys)
    ]
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=-1))
