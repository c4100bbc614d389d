# scikit-learn's bundled handwritten digits (1,797 images, 8x8, 10 classes;
# train = first 1,437, test = last 360), upsampled to 32x32 for LeNet-5,
# random shifts for training.
dataset_type = 'DigitsDataset'
data_preprocessor = dict(
    num_classes=10,
    # statistics of the 0-255 scaled digits images
    mean=[77.9],
    std=[95.9],
    to_rgb=False,
)

train_pipeline = [
    dict(type='Resize', scale=32, interpolation='bilinear'),
    # random shifts of up to 3 pixels
    dict(type='mmpretrain.RandomCrop', crop_size=32, padding=3),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=32, interpolation='bilinear'),
    dict(type='mmpretrain.PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    dataset=dict(type=dataset_type, split='train', pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=dict(type=dataset_type, split='test', pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))

test_dataloader = val_dataloader
test_evaluator = val_evaluator
