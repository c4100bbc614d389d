# ResNet-50 (mmpretrain's, "pytorch" style: stride in the 3x3 conv) for a
# sequence of classification tasks with different label spaces, e.g.
# ImageNet-1k (1000 classes) -> CUB-200-2011 (200), as in XK-FAC's
# ImageNet -> fine-grained experiments (Lee et al., CVPR 2020).
# * batch norm in train mode (norm_eval=False, all stages trainable): the
#   setting in which K-FAC's independence assumption fails and XK-FAC is
#   needed; the "fixed BN" baseline switches BN to eval mode in its hook;
# * one linear classifier per task (mmdl.MultiTaskLinearClsHead, chosen by
#   the samples' task_id): num_classes=[1000, <target classes>], task 0 is
#   the ImageNet classifier of the checkpoint given to `load_from` after
#   tools/model_converters/in1k_to_multitask.py (head.fc.* -> head.fcs.0.*).
model = dict(
    type='mmdl.ContinualImageClassifier',
    _scope_='mmpretrain',
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(3, ),
        style='pytorch',
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='mmdl.MultiTaskLinearClsHead',
        num_tasks=2,
        num_classes=[1000, 200],
        in_channels=2048,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5),
    ),
)
