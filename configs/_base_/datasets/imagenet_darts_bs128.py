# ImageNet-1k for training a DARTS evaluation network (DARTS'
# `train_imagenet.py`): mmpretrain's ImageNet dataset (data/imagenet with
# train/ and val/ folders or annotation files, as mmpretrain's configs),
# batch 128; training: random resized crop 224, horizontal flip and colour
# jitter (brightness, contrast and saturation 0.4, hue 0.2); testing: the
# short side resized to 256, centre crop 224. Validation and test on the
# 50,000 val images.
dataset_type = 'mmpretrain.ImageNet'
data_root = 'data/imagenet'
data_preprocessor = dict(
    num_classes=1000,
    # RGB normalisation parameters
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    # convert images from BGR (as loaded) to RGB
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    # torchvision's ColorJitter, as DARTS, on an RGB PIL image (through
    # mmpretrain's wrappers): mmpretrain's own ColorJitter shifts the hue
    # with mmcv's adjust_hue, which fails under NumPy 2 for every negative
    # hue factor (`np.uint8(hue_factor * 255)` overflows), i.e. on half the
    # images with hue=0.2.
    dict(type='mmpretrain.NumpyToPIL', to_rgb=True),
    dict(
        type='mmpretrain.torchvision/ColorJitter',
        brightness=0.4,
        contrast=0.4,
        saturation=0.4,
        hue=0.2),
    dict(type='mmpretrain.PILToNumpy', to_bgr=True),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='mmpretrain.PackInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='val',
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
