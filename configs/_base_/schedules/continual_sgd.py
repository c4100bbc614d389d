# Continual learning: a sequence of 3 tasks, 2 epochs each, SGD (lr 0.05,
# momentum 0.9, no weight decay) at a constant learning rate.
# mmdl's TaskSequenceTrainLoop builds train_dataloader/val_dataloader per
# task (dataset.task_id = t), rebuilds the optimiser (fresh momentum) and
# the schedulers at every task start, evaluates all tasks seen after each
# task and writes work_dir/continual_metrics.json and accuracy_matrix.png.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9))
# Schedulers, if any, are rebuilt per task: begin/end count the epochs of
# the task (a missing `end` is the task's epochs).
param_scheduler = []
train_cfg = dict(
    type='TaskSequenceTrainLoop',
    num_tasks=3,
    # one number for every task, or a list with one number per task
    max_epochs=2,
    # the accuracy matrix is evaluated after tasks >= val_begin_task
    val_begin_task=0,
    # per-task overrides, e.g. a learning rate per task:
    # task_cfgs=[None, dict(optim_wrapper=dict(optimizer=dict(lr=0.01))),
    #            None],
)
val_cfg = dict()
test_cfg = dict()
# lr scaling for --auto-scale-lr: the recipe uses 1 process x batch 32
auto_scale_lr = dict(base_batch_size=32)
