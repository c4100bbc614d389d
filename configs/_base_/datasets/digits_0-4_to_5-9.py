# Disposable transfer on scikit-learn's bundled digits: the source task is
# digits 0-4 (SplitDigits task 0 of 5 classes), the target task digits 5-9
# (task 1), both relabelled 0-4; fixed split (first 1,437 images train,
# last 360 test). Pre-training uses the source loaders alone; DTL trains on
# the target with source batches paired in (PairedEpochBasedTrainLoop) and
# is tested by PiggybackTestLoop: retraining on 10% of the source training
# set, class-balanced, and on a downstream task never seen before
# (pixel-permuted digits, 10 classes, 25% of its training set).
data_preprocessor = dict(num_classes=5, mean=[77.9], std=[95.9], to_rgb=False)

pipeline = [dict(type='mmpretrain.PackInputs')]
source_train = dict(
    type='SplitDigits', split='train', task_id=0, classes_per_task=5,
    relabel=True, pipeline=pipeline)
source_test = dict(source_train, split='test')
target_train = dict(source_train, task_id=1)
target_test = dict(target_train, split='test')
downstream_train = dict(
    type='PermutedDigits', split='train', task_id=1, pipeline=pipeline)
downstream_test = dict(downstream_train, split='test')

source_dataloader = dict(
    batch_size=64,
    num_workers=0,
    dataset=source_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
train_dataloader = dict(
    batch_size=64,
    num_workers=0,
    dataset=target_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=target_test,
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

piggyback_tasks = dict(
    source=dict(
        train=dict(batch_size=32, dataset=source_train),
        test=dict(batch_size=256, dataset=source_test),
        num_classes=5,
        fraction=0.1),
    downstream=dict(
        train=dict(batch_size=32, dataset=downstream_train),
        test=dict(batch_size=256, dataset=downstream_test),
        num_classes=10,
        fraction=0.25),
)
