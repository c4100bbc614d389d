# CIFAR-10 for training a DARTS evaluation network (DARTS' `train.py`):
# cifar10_bs128.py with batch 96, cutout 16 after the random crop and
# flip, and DARTS' normalisation; validation and test on the 10,000 test
# images. Data: the python version under data/cifar10; nothing is
# downloaded.
_base_ = ['./cifar10_bs128.py']

data_preprocessor = dict(
    mean=[125.307, 122.950, 113.865],  # DARTS' CIFAR_MEAN * 255
    std=[62.993, 62.089, 66.705],  # DARTS' CIFAR_STD * 255
)

train_pipeline = [
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # DARTS' Cutout(16) on every image: a 16x16 square centred at a
    # uniformly random pixel, clipped at the border. DARTS cuts after
    # normalisation and fills with 0, i.e. the mean; here the cut comes
    # before normalisation, so it fills with the mean pixel.
    dict(type='ClippedCutout', length=16, pad_val=(125, 123, 114)),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(batch_size=96, dataset=dict(pipeline=train_pipeline))
