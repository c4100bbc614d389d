# A miniature face-recognition set in the real formats, made from
# scikit-learn's bundled digits (each digit an identity, rendered to
# 112x112): on first use `write_digits_face_set` writes it into the cache
# directory `data_root` (train.rec/.idx/property of the 1,437 training
# images; heldout.bin, a .bin set of 300 pairs of the 360 held-out images,
# made by tools/dataset_converters/make_bin.py's function). Training reads
# the RecordIO set (MXFaceDataset), validation and test the .bin set
# (10-fold protocol, BinVerificationMetric).
data_root = 'data/cache/digits_faces'
prepare = dict(type='write_digits_face_set')
train_pipeline = [
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
val_pipeline = [
    dict(
        type='mmpretrain.PackInputs',
        meta_keys=('sample_idx', 'pair_index', 'issame', 'dataset_name')),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    dataset=dict(
        type='MXFaceDataset',
        data_root=data_root,
        prepare=prepare,
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    dataset=dict(
        type='BinVerificationDataset',
        data_root=data_root,
        ann_file='heldout.bin',
        prepare=prepare,
        pipeline=val_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='BinVerificationMetric')
test_dataloader = val_dataloader
test_evaluator = val_evaluator
