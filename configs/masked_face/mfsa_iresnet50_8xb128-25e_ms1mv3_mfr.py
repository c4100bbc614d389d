# Test the full IResNet-50 MS1MV3 model with the ICCV2021-MFR protocol
# (offline: the challenge's test server is gone) on a set the user holds:
# data/mfr/mfr_list.txt lists `<image> <identity> <masked 0|1>` of aligned
# 112x112 faces. Reported: mask-to-non-mask TAR at FAR <= 1e-4, all-to-all
# TAR at FAR <= 1e-6 and 0.25 * Mask + 0.75 * All. To mask the flagged
# images synthetically instead (a non-masked set), add
# dict(type='RandomFaceMask', prob=1.0, condition_key='masked', seed=0)
# after LoadImageFromFile.
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MFRDataset',
        data_root='data/mfr',
        ann_file='mfr_list.txt',
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(
                type='mmpretrain.PackInputs',
                meta_keys=('sample_idx', 'masked')),
        ]))
test_evaluator = dict(
    _delete_=True,
    type='MFRMetric',
    protocols=('mask', 'all'),
    mask_far=1e-4,
    all_far=1e-6)
