# MS1MV2 as ms1mv2_bs128.py, with synthetic masks for masked face
# recognition. Training: RandomFaceMask on half of the images (p = 0.5;
# insightface's MaskAugmentation uses 0.1) before the flip, and the mask
# segmentation packed for the attention losses. Validation: insightface's
# LFW, AgeDB-30, CALFW and CPLFW .bin sets as they are and masked (the
# second image of every pair masked, the same mask at every evaluation:
# seed 0), reported as verification/<set> and verification/<set>_masked.
# Test: IJB-C 1:1 verification, unmasked (see the *_masked-ijbc.py configs
# for a mask on the probe side).
_base_ = ['./ms1mv2_bs128.py']

data_root = 'data/faces_emore'
mask_prob = 0.5
train_pipeline = [
    dict(type='RandomFaceMask', prob=mask_prob, h_low=0.33, h_high=0.4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs', algorithm_keys=('gt_seg_map', )),
]
bin_meta_keys = ('sample_idx', 'pair_index', 'issame', 'dataset_name')
val_pipeline = [dict(type='mmpretrain.PackInputs', meta_keys=bin_meta_keys)]
masked_val_pipeline = [
    dict(type='RandomFaceMask', prob=1.0, condition_key='probe', seed=0),
    dict(type='mmpretrain.PackInputs', meta_keys=bin_meta_keys),
]
val_sets = ('lfw', 'agedb_30', 'calfw', 'cplfw')

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(datasets=[
        dict(
            type='BinVerificationDataset',
            data_root=data_root,
            ann_file=f'{name}.bin',
            name=name + suffix,
            pipeline=pipeline) for suffix, pipeline in (
                ('', val_pipeline), ('_masked', masked_val_pipeline))
        for name in val_sets
    ]))
