# MS1MV2 (insightface's faces_emore: 85,742 identities, 5,822,653 aligned
# 112x112 faces) in its RecordIO layout under data/faces_emore (train.rec,
# train.idx, property, and the .bin verification sets), read without
# mxnet by mmdl's MXFaceDataset; random horizontal flip, batch 128 per
# process. Validation: insightface's .bin sets LFW, CFP-FP and AgeDB-30
# (10-fold protocol, BinVerificationMetric). Test: IJB-C 1:1 verification
# (insightface's IJB test suite under data/IJB_release/IJBC: loose_crop/
# and meta/; 5-point alignment to 112x112; IJBVerificationMetric, ROC to
# work_dirs/ijbc_roc).
data_root = 'data/faces_emore'
ijb_root = 'data/IJB_release/IJBC'
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
val_pipeline = [
    dict(
        type='mmpretrain.PackInputs',
        meta_keys=('sample_idx', 'pair_index', 'issame', 'dataset_name')),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='FaceAlign'),
    dict(
        type='mmpretrain.PackInputs',
        meta_keys=('sample_idx', 'template_id', 'media_id', 'faceness')),
]
val_sets = ('lfw', 'cfp_fp', 'agedb_30')

train_dataloader = dict(
    batch_size=128,
    num_workers=4,
    persistent_workers=True,
    dataset=dict(
        type='MXFaceDataset', data_root=data_root, pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=2,
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(
                type='BinVerificationDataset',
                data_root=data_root,
                ann_file=f'{name}.bin',
                pipeline=val_pipeline) for name in val_sets
        ]),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='BinVerificationMetric')
test_dataloader = dict(
    batch_size=128,
    num_workers=4,
    dataset=dict(
        type='IJBDataset',
        data_root=ijb_root,
        target='IJBC',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_evaluator = dict(
    type='IJBVerificationMetric',
    data_root=ijb_root,
    target='IJBC',
    out_dir='work_dirs/ijbc_roc')
