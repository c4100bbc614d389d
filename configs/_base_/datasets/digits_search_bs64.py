# scikit-learn's bundled digits for architecture search (16x16, batch 64,
# digits_16x16_bs64.py): the 1,437 training images split in two halves as
# in DARTS (`train_portion` 0.5): the first 718 train the weights (the main
# dataloader), the last 719 the architecture (`arch_dataloader`, paired in
# by PairedEpochBasedTrainLoop) and serve as the search's validation set;
# the 360 test images are the test set.
_base_ = ['./digits_16x16_bs64.py']

num_weight_images = 718  # the first half of the training split

train_dataloader = dict(dataset=dict(indices=num_weight_images))
arch_dataloader = dict(
    batch_size=64,
    num_workers=0,
    dataset=dict(
        type={{_base_.dataset_type}},
        split='train',
        indices=num_weight_images - 1437,  # the last 719
        pipeline={{_base_.train_pipeline}}),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=256,
    dataset=dict(split='train', indices=num_weight_images - 1437))
test_dataloader = dict(batch_size=256)
