# Disposable transfer on Fashion-MNIST (Debian package dataset-fashion-mnist,
# IDX files in /usr/share/datasets/fashion-mnist): the source task is
# classes 0-4 (T-shirt/top, trouser, pullover, dress, coat; 30,000 training
# and 5,000 test images), the target task classes 5-9 (sandal, shirt,
# sneaker, bag, ankle boot), both relabelled 0-4. PiggybackTestLoop
# retrains on 10% of the source training set (class-balanced, 3,000
# images) and on a downstream task never seen before: scikit-learn's
# digits upsampled to 28x28 (10 classes, 1,437 training images).
data_preprocessor = dict(num_classes=5, mean=[72.9], std=[90.0], to_rgb=False)

pipeline = [dict(type='mmpretrain.PackInputs')]
source_train = dict(
    type='SplitFashionMNIST', split='train', task_id=0, classes_per_task=5,
    relabel=True, pipeline=pipeline)
source_test = dict(source_train, split='test')
target_train = dict(source_train, task_id=1)
target_test = dict(target_train, split='test')
digits_pipeline = [
    dict(type='Resize', scale=28, interpolation='bilinear'),
    dict(type='mmpretrain.PackInputs'),
]
downstream_train = dict(
    type='DigitsDataset', split='train', pipeline=digits_pipeline)
downstream_test = dict(downstream_train, split='test')

source_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=source_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
train_dataloader = dict(
    batch_size=128,
    num_workers=0,
    dataset=target_train,
    sampler=dict(type='DefaultSampler', shuffle=True),
)
val_dataloader = dict(
    batch_size=512,
    num_workers=0,
    dataset=target_test,
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator

piggyback_tasks = dict(
    source=dict(
        train=dict(batch_size=64, dataset=source_train),
        test=dict(batch_size=512, dataset=source_test),
        num_classes=5,
        fraction=0.1),
    downstream=dict(
        train=dict(batch_size=64, dataset=downstream_train),
        test=dict(batch_size=512, dataset=downstream_test),
        num_classes=10,
        fraction=1.0),
)
