# Permuted Fashion-MNIST (Debian package dataset-fashion-mnist, IDX files in
# /usr/share/datasets/fashion-mnist): task t permutes the 784 pixels with
# np.random.default_rng(t).permutation(784), task 0 = identity.
data_root = '/usr/share/datasets/fashion-mnist'
data_preprocessor = dict(
    num_classes=10, mean=[72.94], std=[90.02], to_rgb=False)

pipeline = [dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])]

train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=dict(
        type='PermutedFashionMNIST',
        data_root=data_root,
        split='train',
        pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=1000,
    num_workers=0,
    dataset=dict(
        type='PermutedFashionMNIST',
        data_root=data_root,
        split='test',
        pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
