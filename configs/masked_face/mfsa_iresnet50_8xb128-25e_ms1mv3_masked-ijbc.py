# Test the full IResNet-50 MS1MV3 model on masked IJB-C: every image of the
# probe templates (the second column of the pair list) masked after
# alignment (the ArcFace template places the mask; seed 0, the same masks
# on every run); the gallery side unmasked. The ROC goes to
# work_dirs/ijbc_masked_roc.
#   python tools/test.py configs/masked_face/mfsa_iresnet50_8xb128-25e_ms1mv3_masked-ijbc.py CKPT
_base_ = ['./mfsa_iresnet50_8xb128-25e_ms1mv3.py']

test_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='FaceAlign'),
        dict(
            type='RandomFaceMask',
            prob=1.0,
            condition_key='probe',
            seed=0,
            landmarks_key=None),
        dict(
            type='mmpretrain.PackInputs',
            meta_keys=('sample_idx', 'template_id', 'media_id', 'faceness')),
    ]))
test_evaluator = dict(out_dir='work_dirs/ijbc_masked_roc')
