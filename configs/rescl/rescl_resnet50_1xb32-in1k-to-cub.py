# ResCL from ImageNet to CUB-200-2011 with ResNet-50: task 0 (ImageNet, 0
# epochs) is the converted ImageNet checkpoint, evaluated; task 1 (CUB, 30
# epochs, SGD with cosine decay) fine-tunes the target copy for 15 epochs
# and trains the combination for 15 (distillation to the 1000-class
# ImageNet head on CUB images and to the fine-tuned 200-class head). Data,
# checkpoint conversion and schedule: configs/xkfac's CUB configs.
_base_ = [
    '../xkfac/finetune_resnet50_1xb32-in1k-to-cub.py',
    '../_base_/continual/rescl.py'
]

model = dict(
    _delete_=True,
    **_base_.rescl_model,
    classifier=_base_.model,
    input_shape=(3, 224, 224),
    # the wrapper's keys differ from the checkpoint's: load it as the source
    source_checkpoint=_base_.load_from)
load_from = None
optim_wrapper = dict(optimizer=dict(weight_decay=0.0))
custom_hooks = [dict(type='ResCLHook', finetune_epochs=15, batch_size=64)]
