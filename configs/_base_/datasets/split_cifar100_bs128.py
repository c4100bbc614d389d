# Split CIFAR-100 (data/cifar100/cifar-100-python): 5 tasks of 20 classes
# (task t: classes 20t .. 20t+19), relabelled 0..19 for a head per task;
# the CIFAR recipe of cifar100_bs128.py (random crop and flip).
_base_ = ['./cifar100_bs128.py']

pack = dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])
train_dataloader = dict(
    dataset=dict(
        type='SplitCIFAR100',
        classes_per_task=20,
        relabel=True,
        pipeline=[
            dict(type='mmpretrain.RandomCrop', crop_size=32, padding=4),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'), pack
        ]))
val_dataloader = dict(
    dataset=dict(
        type='SplitCIFAR100',
        classes_per_task=20,
        relabel=True,
        pipeline=[pack]))
test_dataloader = val_dataloader
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_evaluator = val_evaluator
