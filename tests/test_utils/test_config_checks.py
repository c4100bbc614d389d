# Copyright (c) mmdl contributors. All rights reserved.
import copy
from collections import OrderedDict

import pytest
import torch
from mmengine.registry import MODELS, OPTIMIZERS, DefaultScope

from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.utils import (CheckpointFileError, check_checkpoint, check_train_cfg,
                        check_types, explain_error)
from mmdl.utils.config_checks import ConfigError, check_data_roots


def test_missing_data_root_inside_a_task_dataset_list(tmp_path):
    existing, missing = tmp_path, tmp_path / 'no_cub'
    cfg = dict(
        train_dataloader=dict(
            dataset=dict(
                type='TaskDataset',
                dataset=[
                    dict(type='mmpretrain.ImageNet', data_root=str(existing)),
                    dict(type='mmpretrain.CUB', data_root=str(missing)),
                ])))
    with pytest.raises(ConfigError) as error:
        check_data_roots(cfg)
    assert (f"train_dataloader.dataset.dataset.1.data_root: directory "
            f"'{missing}' does not exist (dataset mmpretrain.CUB)") == str(
                error.value)
    cfg['train_dataloader']['dataset']['dataset'][1]['data_root'] = str(
        existing)
    check_data_roots(cfg)


# ----------------------------------------------------------------------
# check_types
# ----------------------------------------------------------------------
    check_train_cfg(cfg)


def _lenet(**changes):
    model = dict(
        type='ImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(type='LeNet5', num_classes=10),
        head=dict(
            type='ClsHead',
            loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
    model.update(changes)
    return model


def _plugged(plugin_type):
    return _lenet(
        backbone=dict(
            type='mmdl.PreActResNet',
            depth=20,
            plugins=[dict(cfg=dict(type=plugin_type), stage=1)]),
        head=dict(type='ClsHead'))


@pytest.mark.parametrize('model', [
    _lenet(),
    _lenet(_scope_=None, type='mmpretrain.ImageClassifier'),
    _lenet(backbone=dict(type='mmpretrain.LeNet5', num_classes=10)),
    _lenet(backbone=dict(type='mmdl.LeNet5', num_classes=10)),
    _lenet(head=dict(type='ClsHead', loss=dict(type='CrossEntropyLos'))),
    _plugged('ScaledNonLocal2d'),
    _plugged('ScaledNonLocal'),
])
def test_model_types_agree_with_the_build(model):
    """check_types accepts a model config exactly when mmengine builds it
    in the 'mmdl' default scope."""
    model = {k: v for k, v in model.items() if v is not None}
    try:
        with DefaultScope.overwrite_default_scope('mmdl'):
            MODELS.build(copy.deepcopy(model))
        built = True
    except KeyError:
        built = False
    cfg = dict(default_scope='mmdl', model=model)
    if built:
        check_types(cfg)
    else:
        with pytest.raises(ConfigError, match='unknown type'):
            check_types(cfg)


def test_scope_of_a_subtree_and_the_prefix_it_needs():
    model = _lenet(_scope_=None, type='mmpretrain.ImageClassifier')
    del model['_scope_']
    with pytest.raises(ConfigError) as error:
        check_types(dict(default_scope='mmdl', model=model))
    assert str(error.value) == (
        "unknown type 'LeNet5' at model.backbone.type: not in the MODELS "
        "registry (scope 'mmdl'); 'LeNet5' is registered in scope "
        "'mmpretrain': components of another scope need its prefix, use "
        "'mmpretrain.LeNet5'")


def test_init_cfg_types_are_weight_initializers():
    model = _lenet()
    model['head']['init_cfg'] = dict(type='Normall', layer='Linear')
    with pytest.raises(ConfigError) as error:
        check_types(dict(default_scope='mmdl', model=model))
    assert ("unknown type 'Normall' at model.head.init_cfg.type: not in the "
            "WEIGHT_INITIALIZERS registry (scope 'mmpretrain'); did you "
            "mean 'Normal'") in str(error.value)
    model['head']['init_cfg']['type'] = 'Normal'
    check_types(dict(default_scope='mmdl', model=model))


@pytest.mark.parametrize('cfg,message', [
    (dict(custom_hooks=[
        dict(
            type='RegularizerHook',
            regularizer=dict(type='L2SPRegularizr', alpha=0.01))
    ]), "unknown type 'L2SPRegularizr' at custom_hooks.0.regularizer.type: "
     "not in the REGULARIZERS registry (scope 'mmdl'); did you mean "
     "'L2SPRegularizer'"),
    (dict(default_hooks=dict(logger=dict(type='LogerHook'), timer=None)),
     "unknown type 'LogerHook' at default_hooks.logger.type: not in the "
     "HOOKS registry (scope 'mmdl'); did you mean 'LoggerHook'"),
    (dict(param_scheduler=[
        dict(type='LinearLR'),
        dict(type='CosineAnnealingLRR')
    ]), "at param_scheduler.1.type: not in the PARAM_SCHEDULERS registry"),
    (dict(val_evaluator=[dict(type='mmpretrain.Acuracy')]),
     "did you mean 'mmpretrain.Accuracy'"),
    (dict(train_cfg=dict(type='TaskSequenceLoop')),
     "did you mean 'TaskSequenceTrainLoop'"),
    (dict(
        test_dataloader=dict(
            dataset=dict(
                type='TaskDataset', dataset=[dict(type='mmpretrain.CUBB')]))),
     'at test_dataloader.dataset.dataset.0.type: not in the DATASETS'),
    (dict(
        train_dataloader=dict(
            dataset=dict(type='DigitsDataset'),
            sampler=dict(type='DefaultSampler'),
            collate_fn=dict(type='default_colate'))),
     "at train_dataloader.collate_fn.type: not in the FUNCTIONS registry "
     "(scope 'mmengine'); did you mean 'default_collate'"),
    (dict(default_scope='mmdll'),
     "default_scope: 'mmdll' is not the scope of any registry"),
])
def test_unknown_types_of_each_part(cfg, message):
    cfg.setdefault('default_scope', 'mmdl')
    with pytest.raises(ConfigError) as error:
        check_types(cfg)
    assert message in str(error.value)


def test_parts_limit_the_check():
    cfg = dict(
        default_scope='mmdl',
        optim_wrapper=dict(optimizer=dict(type='SDG')),
        test_evaluator=dict(type='mmpretrain.Accuracy'))
    check_types(cfg, ['test_evaluator'])
    with pytest.raises(ConfigError, match='SDG'):
        check_types(cfg)


def test_explain_error_of_a_build_error():
    """The unknown-type branch of explain_error on mmengine's own error."""
    cfg = dict(optim_wrapper=dict(optimizer=dict(type='SDG', lr=0.1)))
    with pytest.raises(KeyError) as error:
        with DefaultScope.overwrite_default_scope('mmdl'):
            OPTIMIZERS.build(
                dict(cfg['optim_wrapper']['optimizer'], params=[]))
    assert explain_error(error.value, cfg) == (
        "unknown type 'SDG' at optim_wrapper.optimizer.type: not in the "
        "OPTIMIZERS registry (scope 'mmdl'); did you mean 'SGD'?")


# ----------------------------------------------------------------------
# check_train_cfg
# ----------------------------------------------------------------------
def _sequence(**train_cfg):
    return dict(
        default_scope='mmdl',
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        param_scheduler=[dict(type='MultiStepLR', milestones=[1])],
        train_cfg=dict(
            dict(type='TaskSequenceTrainLoop', num_tasks=3, max_epochs=2),
            **train_cfg))


@pytest.mark.parametrize('changes,message', [
    (dict(max_epochs=[1, 2]),
     'train_cfg.max_epochs has 2 entries for 3 tasks'),
    (dict(max_epochs=[1, -1, 1]),
     'train_cfg.max_epochs must be >= 0 for every task, got [1, -1, 1]'),
    (dict(num_tasks=0), 'train_cfg.num_tasks must be a positive integer, '
     'got 0'),
    (dict(task_cfgs=[None]), 'train_cfg.task_cfgs has 1 entries for 3 tasks'),
    (dict(task_cfgs=[dict(lr=0.1), None, None]),
     "train_cfg.task_cfgs[0] has unknown keys ['lr']"),
    (dict(
        type='mmdl.TaskSequenceTrainLoop',
        task_cfgs=[None,
                   dict(param_scheduler=[dict(type='LinearLR')]), None]),
     'train_cfg.task_cfgs[1].param_scheduler must have the same scheduler '
     'types as param_scheduler'),
    (dict(max_epochs=None), 'train_cfg: TaskSequenceTrainLoop needs '
     'num_tasks (an int) and max_epochs (an int or one int per task)'),
])
def test_task_sequence_train_cfg(changes, message):
    cfg = _sequence(**changes)
    with pytest.raises(ConfigError) as error:
        check_train_cfg(cfg)
    assert str(error.value).startswith(message)


def test_valid_task_sequences_and_other_loops_pass():
    check_train_cfg(_sequence())
    check_train_cfg(
        _sequence(
            max_epochs=[0, 2, 1],
            task_cfgs=[
                None,
                dict(optim_wrapper=dict(optimizer=dict(lr=0.01))), None
            ]))
    # only TaskSequenceTrainLoop is checked
    check_train_cfg(dict(train_cfg=dict(by_epoch=True, max_epochs=-1)))
    cfg = _sequence()
    del cfg['train_cfg']['num_tasks']
    with pytest.raises(ConfigError, match='train_cfg.num_tasks is missing'):
        check_train_cfg(cfg)


# ----------------------------------------------------------------------
# checkpoint files
# ----------------------------------------------------------------------
@pytest.fixture
def checkpoint_files(tmp_path):
    """Good and bad checkpoint files, by name."""
    state = OrderedDict(w=torch.arange(300.))
    files = dict(
        zip=dict(state_dict=state, meta=dict(epoch=1)),
        legacy=dict(state_dict=state),
        state_dict=state,
        list=[1, 2],
        tensor=torch.zeros(3))
    paths = {}
    for name, obj in files.items():
        paths[name] = tmp_path / f'{name}.pth'
        torch.save(
            obj, paths[name], _use_new_zipfile_serialization=name != 'legacy')
    for name, source, size in (('truncated', 'zip', 1000), ('truncated_legacy',
                                                            'legacy', 300)):
        paths[name] = tmp_path / f'{name}.pth'
        paths[name].write_bytes(paths[source].read_bytes()[:size])
    paths['empty'] = tmp_path / 'empty.pth'
    paths['empty'].write_bytes(b'')
    paths['text'] = tmp_path / 'text.pth'
    paths['text'].write_text('not a checkpoint\n')
    return paths


@pytest.mark.parametrize('name', ['zip', 'legacy', 'state_dict'])
def test_checkpoints_pass(checkpoint_files, name):
    path = str(checkpoint_files[name])
    assert isinstance(torch.load(path, weights_only=True), dict)
    check_checkpoint(path, 'load_from')
    assert isinstance(load_checkpoint_file(path), dict)


@pytest.mark.parametrize('name,problem', [
    ('truncated', 'is truncated or not a checkpoint'),
    ('truncated_legacy', 'is truncated or not a checkpoint'),
    ('empty', 'is empty (0 bytes), not a PyTorch checkpoint'),
    ('text', 'is not a PyTorch checkpoint'),
    ('list', 'holds a list, not a checkpoint dict'),
    ('tensor', 'holds a tensor, not a checkpoint dict'),
])
def test_bad_checkpoints(checkpoint_files, name, problem):
    path = str(checkpoint_files[name])
    with pytest.raises(CheckpointFileError) as error:
        check_checkpoint(path, '--resume')
    assert str(error.value).startswith(
        f"--resume: checkpoint file '{path}' {problem}")
    # mmdl's loader (used where no pre-flight runs) raises the same error
    with pytest.raises(CheckpointFileError) as error:
        load_checkpoint_file(path)
    assert explain_error(error.value) == str(error.value)
    assert str(error.value).startswith(f"checkpoint file '{path}' {problem}")
