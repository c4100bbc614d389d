# ImageNet-1k -> CUB-200-2011: the two tasks of an ImageNet -> fine-grained
# sequence (XK-FAC, Lee et al., CVPR 2020; which fine-grained datasets the
# paper used is not known: CUB, Stanford Cars, FGVC-Aircraft and Flowers-102
# are a reconstruction). mmdl's TaskDataset builds the dataset of the task
# that TaskSequenceTrainLoop injects (task_id 0: ImageNet, 1: CUB) and tags
# the samples with task_id, which PackInputs keeps for the multi-task head.
# Both tasks use mmpretrain's standard 224x224 ImageNet pipelines
# (imagenet_bs32.py): RandomResizedCrop(224) + flip for training,
# short edge 256 + CenterCrop(224) for evaluation.
# Evaluation: ImageNet val (source) and the CUB test split (target).
#
# Data (nothing is downloaded):
# * data/imagenet, mmpretrain's preparation: train/<wnid>/*.JPEG,
#   val/ILSVRC2012_val_*.JPEG, meta/train.txt and meta/val.txt
#   ("<file> <label>", labels = index of the sorted wnids, the order of
#   mmpretrain's ImageNet checkpoints);
# * data/CUB_200_2011, the original archive: images/<ccc.Name>/*.jpg,
#   images.txt, image_class_labels.txt, train_test_split.txt.
# The other targets (imagenet_to_{stanford-cars,fgvc-aircraft,flowers102}
# _bs32.py) inherit this file and replace the target datasets.
imagenet_root = 'data/imagenet'
data_preprocessor = dict(
    num_classes=1000,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True,
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.RandomResizedCrop', scale=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id']),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id']),
]

# task 0 (source)
imagenet_train = dict(
    type='mmpretrain.ImageNet', data_root=imagenet_root, split='train')
imagenet_val = dict(
    type='mmpretrain.ImageNet', data_root=imagenet_root, split='val')
# task 1 (target)
target_root = 'data/CUB_200_2011'
target_train = dict(
    type='mmpretrain.CUB', data_root=target_root, split='train')
target_test = dict(type='mmpretrain.CUB', data_root=target_root, split='test')

train_dataloader = dict(
    batch_size=32,
    num_workers=5,
    dataset=dict(
        type='TaskDataset',
        dataset=[imagenet_train, target_train],
        pipeline=train_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=32,
    num_workers=5,
    dataset=dict(
        type='TaskDataset',
        dataset=[imagenet_val, target_test],
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, 5))

# tools/test.py: the target task (set dataset.task_id=0 for ImageNet val)
test_dataloader = dict(
    batch_size=32,
    num_workers=5,
    dataset=dict(
        type='TaskDataset',
        dataset=[imagenet_val, target_test],
        task_id=1,
        pipeline=test_pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
test_evaluator = val_evaluator
