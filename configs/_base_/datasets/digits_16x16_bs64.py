# scikit-learn's bundled digits (digits_bs32.py's split and statistics)
# upsampled to 16x16 for the cell networks of architecture search, batch
# 64; random shifts of up to 2 pixels for training.
_base_ = ['./digits_bs32.py']

train_pipeline = [
    dict(type='Resize', scale=16, interpolation='bilinear'),
    dict(type='mmpretrain.RandomCrop', crop_size=16, padding=2),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=16, interpolation='bilinear'),
    dict(type='mmpretrain.PackInputs'),
]

train_dataloader = dict(batch_size=64, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
