# Copyright (c) mmdl contributors. All rights reserved.
"""Any backbone with plugins inserted between the units of its stages."""
import copy
from typing import List, Optional, Union

from mmengine.model import BaseModule
from torch import nn

from mmdl.registry import MODELS
from ..utils.plugin_insertion import (get_stage_plugins,
                                      init_weights_keeping_plugins,
                                      insert_stage_plugins, resolve_stages)


@MODELS.register_module()
class PluggedBackbone(BaseModule):
    """Wrap a backbone and insert plugins between the units of its stages.

    For backbones without a ``plugins`` argument of this kind, e.g.
    mmpretrain's ``ResNet`` / ``ResNet_CIFAR`` (stages ``layer1``..``layer4``
    named in ``res_layers``)::

        backbone=dict(
            type='PluggedBackbone',
            backbone=dict(type='mmpretrain.ResNet_CIFAR', depth=18),
            plugins=[dict(cfg=dict(type='ScaledNonLocal2d'), stage=1)])

    The plugin dicts follow
    :mod:`~mmdl.models.utils.plugin_insertion`. The backbone dict is built
    with mmdl's ``MODELS`` in the ``'mmdl'`` scope unless it has a
    ``_scope_``, so mmpretrain backbones need the ``mmpretrain.`` prefix,
    as everywhere in mmdl configs.

    ``forward`` and ``train`` (hence frozen stages and ``norm_eval``) are
    the wrapped backbone's; the frozen stages are applied again after the
    insertion (through the backbone's ``_freeze_stages`` if it has one), so
    a plugin in a frozen stage is frozen too. ``init_weights`` runs this
    module's and the backbone's ``init_cfg`` and then gives the plugins
    back their own initialisation (the Scaled Non-Local block starts as the
    identity); a ``'Pretrained'`` ``init_cfg`` of this module is applied
    after that. A ``'Pretrained'`` ``init_cfg`` of the wrapped backbone runs
    inside the backbone's initialisation, before the plugins are restored:
    use it for checkpoints of the plain backbone.

    State-dict keys are the backbone's with a ``backbone.`` prefix, plus the
    plugins' (e.g. ``backbone.layer3.plugin_0.theta.weight``); the keys of
    the original units are unchanged.

    Args:
        backbone (dict | nn.Module): Config of the backbone, or a built one.
        plugins (list[dict]): Plugin dicts.
        stage_attr (str, optional): Attribute of the backbone holding the
            stages, see
            :func:`~mmdl.models.utils.plugin_insertion.resolve_stages`.
            Defaults to None: ``'res_layers'``, ``'stages'`` or
            ``'layers'``, whichever exists first.
        init_cfg (dict | list[dict], optional): Initialisation config of
            the whole wrapper. Defaults to None.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 plugins: List[dict],
                 stage_attr: Optional[str] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(backbone, nn.Module):
            self.backbone = backbone
        elif isinstance(backbone, dict) and 'type' in backbone:
            cfg = copy.deepcopy(backbone)
            cfg.setdefault('_scope_', 'mmdl')
            self.backbone = MODELS.build(cfg)
        else:
            raise ValueError('PluggedBackbone: backbone must be a config '
                             "dict with a 'type' or an nn.Module, got "
                             f'{backbone!r}')
        self.stage_attr = stage_attr
        self.plugins = plugins
        insert_stage_plugins(self.stages, plugins)
        freeze = getattr(self.backbone, '_freeze_stages', None)
        if callable(freeze):
            freeze()

    @property
    def stages(self) -> List[nn.Sequential]:
        """The stages of the wrapped backbone."""
        return resolve_stages(self.backbone, self.stage_attr)

    def init_weights(self) -> None:
        """Initialise the backbone; plugins keep their own
        initialisation."""
        init_weights_keeping_plugins(self, get_stage_plugins(self.stages),
                                     super().init_weights)

    def forward(self, *args, **kwargs):
        """The wrapped backbone's forward."""
        return self.backbone(*args, **kwargs)
