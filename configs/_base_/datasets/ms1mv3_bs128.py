# MS1MV3 (insightface's ms1m-retinaface-t1: 93,431 identities, 5,179,510
# aligned faces) under data/ms1m-retinaface-t1, otherwise as
# ms1mv2_bs128.py (the .bin sets ship in the same folder).
_base_ = ['./ms1mv2_bs128.py']

data_root = 'data/ms1m-retinaface-t1'
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='BinVerificationDataset',
            data_root=data_root,
            ann_file=f'{name}.bin',
            pipeline={{_base_.val_pipeline}})
        for name in ('lfw', 'cfp_fp', 'agedb_30')
    ]))
