# Continual learning with Adam (lr 1e-3), the optimiser of ResCL's
# GT-RIPL-benchmark experiments, for every method of configs/rescl; a fresh
# optimiser per task (TaskSequenceTrainLoop). Set num_tasks and max_epochs.
optim_wrapper = dict(
    optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-6))
param_scheduler = []
train_cfg = dict(
    type='TaskSequenceTrainLoop', num_tasks=2, max_epochs=1,
    val_begin_task=0)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
