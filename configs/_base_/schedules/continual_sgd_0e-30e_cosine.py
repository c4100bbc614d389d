# Two tasks, a pretrained source and a target (ImageNet -> fine-grained):
# task 0 has 0 epochs (not retrained: the model starts from an ImageNet
# checkpoint, `load_from`; TaskSequenceTrainLoop still evaluates it and
# fires its 'after_task', where the penalty hooks collect the source
# curvature at the pretrained weights), task 1 gets 30 epochs of SGD,
# lr 0.01, momentum 0.9, batch 32 on 1 GPU, cosine annealing to 0 over the
# task's epochs (per epoch), no weight decay (decay toward 0 would fight the
# penalties that keep the weights near the ImageNet solution; L2-SP decays
# toward them instead).
# Reconstruction: the paper's optimiser, learning rate, schedule, epochs
# and batch size are not known; these are common settings for fine-tuning
# an ImageNet ResNet-50 on a fine-grained dataset.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0))
# rebuilt per task with `end` = the task's epochs (none for task 0)
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, eta_min=0.0)
]
train_cfg = dict(
    type='TaskSequenceTrainLoop',
    num_tasks=2,
    max_epochs=[0, 30],
    val_begin_task=0,
)
val_cfg = dict()
test_cfg = dict()
# lr scaling for --auto-scale-lr: the recipe uses 1 process x batch 32
auto_scale_lr = dict(base_batch_size=32)
