# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope
from torch import nn

from mmdl.models.plugins import ScaledNonLocal2d
from mmdl.models.utils.plugin_insertion import (
    get_in_channels, get_out_channels, get_stage_plugins, get_stage_units,
    infer_in_channels, init_weights_keeping_plugins, insert_stage_plugins,
    resolve_stages)

SNL = dict(type='ScaledNonLocal2d')


class Stage(nn.Sequential):
    """A stage class with an attribute, to check both survive insertion."""

    def __init__(self, *units):
        super().__init__(*units)
        self.marker = 'kept'


def conv(in_channels, out_channels):
    return nn.Conv2d(in_channels, out_channels, 3, padding=1)


def make_stages():
    """Two stages: 3 units 4->8->8->8, then 2 units 8->16->16."""
    return [
        Stage(conv(4, 8), conv(8, 8), conv(8, 8)),
        Stage(conv(8, 16), conv(16, 16))
    ]


def test_default_position_is_before_last_unit():
    stages = make_stages()
    unit_keys = set(stages[0].state_dict())
    last = stages[0][2]
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=0)])
    stage = stages[0]
    assert isinstance(stage, Stage) and stage.marker == 'kept'
    assert list(stage._modules) == ['0', '1', 'plugin_0', '2']
    assert stage[-1] is last
    assert isinstance(stage.plugin_0, ScaledNonLocal2d)
    assert stage.plugin_0.in_channels == 8
    # the keys of the original units are unchanged
    keys = set(stage.state_dict())
    assert unit_keys <= keys
    assert all(k.startswith('plugin_0.') for k in keys - unit_keys)
    assert list(stages[1]._modules) == ['0', '1']
    assert get_stage_units(stage) == [stage[0], stage[1], last]
    assert get_stage_plugins(stages) == [stage.plugin_0]


def test_forward_runs_through_plugin_in_order():
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=0)])
    calls = []
    for name, module in stages[0].named_children():
        module.register_forward_hook(lambda m, args, out, name=name: calls.
                                     append((name, tuple(args[0].shape))))
    nn.Sequential(*stages)(torch.rand(2, 4, 6, 6))
    assert calls == [('0', (2, 4, 6, 6)), ('1', (2, 8, 6, 6)),
                     ('plugin_0', (2, 8, 6, 6)), ('2', (2, 8, 6, 6))]


@pytest.mark.parametrize('position, names, channels', [
    (0, ['plugin_0', '0', '1', '2'], 4),
    (-3, ['plugin_0', '0', '1', '2'], 4),
    (1, ['0', 'plugin_0', '1', '2'], 8),
    (3, ['0', '1', '2', 'plugin_0'], 8),
])
def test_positions_and_inferred_channels(position, names, channels):
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=0, position=position)])
    assert list(stages[0]._modules) == names
    assert stages[0].plugin_0.in_channels == channels
    assert stages[0](torch.rand(1, 4, 4, 4)).shape == (1, 8, 4, 4)


def test_position_zero_of_downsampling_stage_uses_stage_input():
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=1, position=0)])
    assert list(stages[1]._modules) == ['plugin_0', '0', '1']
    assert stages[1].plugin_0.in_channels == 8


def test_num_stacks_copies():
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=1, num=2)])
    stage = stages[1]
    assert list(stage._modules) == ['0', 'plugin_0', 'plugin_1', '1']
    assert stage.plugin_0 is not stage.plugin_1
    calls = []
    for plugin in (stage.plugin_0, stage.plugin_1):
        plugin.register_forward_hook(lambda m, a, o: calls.append(m))
    stage(torch.rand(1, 8, 4, 4))
    assert calls == [stage.plugin_0, stage.plugin_1]


def test_stage_selection():
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stages=(True, True))])
    assert [s.plugin_0.in_channels for s in stages] == [8, 16]
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=[-1])])
    assert get_stage_plugins(stages[:1]) == []
    assert stages[1].plugin_0.in_channels == 16
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL)])  # every stage
    assert len(get_stage_plugins(stages)) == 2
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=SNL, stages=(False, False))])
    assert get_stage_plugins(stages) == []


def test_explicit_in_channels_wins():
    stages = make_stages()
    insert_stage_plugins(stages, [dict(cfg=dict(SNL, in_channels=5), stage=0)])
    assert stages[0].plugin_0.in_channels == 5


def test_several_dicts_and_repeated_insertion():
    stages = make_stages()
    insert_stage_plugins(stages, [
        dict(cfg=dict(SNL, num_heads=2), stage=0, position=-1),
        dict(cfg=SNL, stage=0, position=0),
        dict(cfg=dict(SNL, num_heads=4), stage=0, position=-1),
    ])
    stage = stages[0]
    assert list(
        stage._modules) == ['plugin_0', '0', '1', 'plugin_1', 'plugin_2', '2']
    assert [stage.plugin_1.num_heads, stage.plugin_2.num_heads] == [2, 4]
    # positions count residual units only; numbering goes on
    insert_stage_plugins(stages, [dict(cfg=SNL, stage=0, position=2)])
    assert list(stage._modules) == [
        'plugin_0', '0', '1', 'plugin_1', 'plugin_2', 'plugin_3', '2'
    ]


def test_mmcv_brick_from_root_registry():
    stages = make_stages()
    insert_stage_plugins(
        stages, [dict(cfg=dict(type='ContextBlock', ratio=0.5), stage=1)])
    assert type(stages[1].plugin_0).__name__ == 'ContextBlock'
    assert stages[1](torch.rand(1, 8, 4, 4)).shape == (1, 16, 4, 4)


@pytest.mark.parametrize('scope', [None, 'mmdl', 'mmpretrain', 'mmengine'])
def test_builds_in_any_default_scope(scope, monkeypatch):
    if scope is None:  # a bare session: no default scope at all
        monkeypatch.setattr(DefaultScope, 'get_current_instance',
                            classmethod(lambda cls: None))
        stages = make_stages()
        insert_stage_plugins(stages, [dict(cfg=SNL, stage=0)])
    else:
        with DefaultScope.overwrite_default_scope(scope):
            stages = make_stages()
            insert_stage_plugins(stages, [dict(cfg=SNL, stage=0)])
    assert isinstance(stages[0].plugin_0, ScaledNonLocal2d)


def test_channel_helpers():
    block = nn.Sequential(nn.BatchNorm2d(3), conv(3, 6), nn.ReLU(), conv(6, 7))
    assert get_in_channels(block) == 3
    assert get_out_channels(block) == 7
    assert infer_in_channels([block, conv(7, 9)], 0) == 3
    assert infer_in_channels([block, conv(7, 9)], 1) == 7
    assert infer_in_channels([block, conv(7, 9)], 2) == 9

    class WithAttr(nn.Module):
        out_channels = 11

    assert get_out_channels(WithAttr()) == 11
    with pytest.raises(ValueError, match='output channels'):
        get_out_channels(nn.ReLU())
    with pytest.raises(ValueError, match='input channels'):
        get_in_channels(nn.ReLU())
    with pytest.raises(ValueError, match='no residual units'):
        infer_in_channels([], 0)


@pytest.mark.parametrize('plugins, match', [
    (dict(cfg=SNL), 'plugins must be a list'),
    (['ScaledNonLocal2d'], r'plugins\[0\] must be a dict'),
    ([dict(cfg=SNL, where=1)], r"plugins\[0\] has unknown keys \['where'\]"),
    ([dict(stage=0)], r'plugins\[0\]\.cfg must be'),
    ([dict(cfg=dict(num_heads=2))], r'plugins\[0\]\.cfg must be'),
    ([dict(cfg=SNL, stage=2)], r'plugins\[0\]\.stage=2 is not a stage'),
    ([dict(cfg=SNL, stage=-3)], r'plugins\[0\]\.stage=-3 is not a stage'),
    ([dict(cfg=SNL, stage='1')], r'plugins\[0\]\.stage must be an int'),
    ([dict(cfg=SNL, stage=[1, -1])], 'lists stage 1 twice'),
    ([dict(cfg=SNL, stages=(True, ))], r'plugins\[0\]\.stages must be'),
    ([dict(cfg=SNL, stages=(1, 0))], r'plugins\[0\]\.stages must be'),
    ([dict(cfg=SNL, stage=0, stages=(True, False))], 'both'),
    ([dict(cfg=SNL, stage=1, position=3)
      ], r'plugins\[0\]\.position=3 is out of range for stage 1'),
    ([dict(cfg=SNL, stage=1, position=-3)], r'position=-3 is out of range'),
    ([dict(cfg=SNL, position=1.0)], r'plugins\[0\]\.position must be'),
    ([dict(cfg=SNL, num=0)], r'plugins\[0\]\.num must be'),
    ([dict(cfg=SNL, stage=0),
      dict(cfg=SNL, stage=0, position=4)], r'plugins\[1\]\.position=4'),
])
def test_bad_plugin_dicts(plugins, match):
    stages = make_stages()
    with pytest.raises(ValueError, match=match):
        insert_stage_plugins(stages, plugins)
    # nothing was inserted
    assert get_stage_plugins(stages) == []
    assert [len(s) for s in stages] == [3, 2]


def test_uninferable_channels_and_bad_stages():
    stages = [nn.Sequential(nn.ReLU(), nn.ReLU())]
    with pytest.raises(ValueError, match='set cfg.in_channels'):
        insert_stage_plugins(stages, [dict(cfg=SNL, stage=0)])
    insert_stage_plugins(stages, [dict(cfg=dict(SNL, in_channels=3))])
    assert stages[0].plugin_0.in_channels == 3
    with pytest.raises(TypeError, match='not an nn.Sequential'):
        insert_stage_plugins([nn.ModuleList()], [])
    insert_stage_plugins(make_stages(), None)


def test_resolve_stages():
    stages = make_stages()

    class ByNames(nn.Module):

        def __init__(self):
            super().__init__()
            self.layer1, self.layer2 = stages
            self.res_layers = ['layer1', 'layer2']

    class ByModules(nn.Module):

        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(stages)

    assert resolve_stages(ByNames()) == stages
    assert resolve_stages(ByModules(), 'blocks') == stages
    with pytest.raises(ValueError, match='none of the attributes'):
        resolve_stages(ByModules())
    with pytest.raises(ValueError, match="stage_attr='nope'"):
        resolve_stages(ByModules(), 'nope')
    bad = ByNames()
    bad.res_layers = ['layer1', 'missing']
    with pytest.raises(ValueError, match="'missing'"):
        resolve_stages(bad)


class Host(BaseModule):

    def __init__(self, init_cfg):
        super().__init__(init_cfg=init_cfg)
        self.layer1 = nn.Sequential(conv(4, 8), conv(8, 8))
        insert_stage_plugins([self.layer1], [dict(cfg=SNL)])

    def init_weights(self):
        init_weights_keeping_plugins(self, get_stage_plugins([self.layer1]),
                                     super().init_weights)


INIT = [
    dict(type='Kaiming', layer='Conv2d'),
    dict(type='Constant', val=1, layer='_BatchNorm')
]


def test_init_keeps_plugin_init_and_pretrained_wins(tmp_path):
    host = Host(INIT)
    norm = host.layer1.plugin_0.norm
    host.init_weights()
    assert norm.weight.abs().sum() == 0 and norm.bias.abs().sum() == 0
    assert host.init_cfg == INIT
    # a second call is a no-op, as in mmengine
    norm.weight.data.fill_(3.)
    host.init_weights()
    assert (norm.weight == 3).all()

    state = host.state_dict()
    state['layer1.plugin_0.norm.weight'].fill_(0.5)
    torch.save(state, tmp_path / 'ckpt.pth')
    host = Host(
        INIT +
        [dict(type='Pretrained', checkpoint=str(tmp_path / 'ckpt.pth'))])
    host.init_weights()
    assert (host.layer1.plugin_0.norm.weight == 0.5).all()
    assert torch.equal(host.layer1[0].weight, state['layer1.0.weight'])
