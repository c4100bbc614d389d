# Permuted digits: task t permutes the pixels of scikit-learn's bundled
# digits with np.random.default_rng(t).permutation(64) (task 0 = identity);
# same fixed split as DigitsDataset (first 1,437 train, last 360 test).
# The dataloaders are templates: TaskSequenceTrainLoop sets
# dataset.task_id per task.
data_preprocessor = dict(num_classes=10, mean=[77.9], std=[95.9], to_rgb=False)

pipeline = [dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])]

train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    dataset=dict(type='PermutedDigits', split='train', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=dict(type='PermutedDigits', split='test', pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
