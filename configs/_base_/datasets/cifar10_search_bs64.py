# CIFAR-10 for architecture search (DARTS' `train_search.py`): the 50,000
# training images split in two halves (`train_portion` 0.5): the first
# 25,000 train the weights (the main dataloader), the last 25,000 the
# architecture (`arch_dataloader`, paired in by PairedEpochBasedTrainLoop)
# and serve as the search's validation set. Batch 64; random crop 32 with
# padding 4 and horizontal flip on both halves (cifar10_bs128.py's);
# DARTS' normalisation. Data: the python version under data/cifar10;
# nothing is downloaded.
_base_ = ['./cifar10_bs128.py']

data_preprocessor = dict(
    mean=[125.307, 122.950, 113.865],  # DARTS' CIFAR_MEAN * 255
    std=[62.993, 62.089, 66.705],  # DARTS' CIFAR_STD * 255
)
num_weight_images = 25000

train_dataloader = dict(
    batch_size=64, dataset=dict(indices=num_weight_images))
arch_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='train',
        indices=num_weight_images - 50000,  # the last 25,000
        pipeline={{_base_.train_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    dataset=dict(split='train', indices=num_weight_images - 50000))
test_dataloader = dict(
    batch_size=256,
    num_workers=2,
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='test',
        pipeline={{_base_.test_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
