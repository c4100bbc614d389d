# MS1MV3 (insightface's ms1m-retinaface-t1) with synthetic masks, otherwise
# as ms1mv2_masked_bs128.py (the .bin sets ship in the same folder).
_base_ = ['./ms1mv2_masked_bs128.py']

data_root = 'data/ms1m-retinaface-t1'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='BinVerificationDataset',
            data_root=data_root,
            ann_file=f'{name}.bin',
            name=name + suffix,
            pipeline=pipeline) for suffix, pipeline in (
                ('', {{_base_.val_pipeline}}),
                ('_masked', {{_base_.masked_val_pipeline}}))
        for name in ('lfw', 'agedb_30', 'calfw', 'cplfw')
    ]))
