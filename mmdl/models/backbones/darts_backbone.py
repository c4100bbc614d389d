# Copyright (c) mmdl contributors. All rights reserved.
"""DARTSBackbone: the network trained from a searched genotype."""
from typing import Optional, Tuple

from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdl.models.nas.derived_cell import DerivedCell
from mmdl.models.nas.genotype import GenotypeLike, load_genotype
from mmdl.registry import MODELS

STEMS = ('cifar', 'imagenet')


@MODELS.register_module()
class DARTSBackbone(BaseModule):
    """The evaluation network of DARTS (``NetworkCIFAR`` and
    ``NetworkImageNet`` of the reference code's ``model.py``) built from a
    genotype, as an mmpretrain backbone.

    ``num_layers`` cells of the genotype, reductions at 1/3 and 2/3 of the
    depth (channels doubling at each), affine batch norms and drop-path on
    every non-identity operation. Stems: ``'cifar'`` (a 3x3 convolution to
    ``3 * base_channels`` channels and batch norm) or ``'imagenet'`` (three
    stride-2 3x3 convolutions, so that the cells start at 28x28 for 224x224
    inputs; the mobile setting is 14 cells of 48 channels).

    The output is a tuple: the last cell's feature map, preceded with
    ``auxiliary=True`` by the output of the cell at 2/3 of the depth for
    an auxiliary classifier
    (:class:`~mmdl.models.heads.AuxiliaryClsHead`).

    Drop-path: the probability used is :attr:`drop_path_prob`, set by
    :meth:`set_drop_path_prob`; :class:`~mmdl.engine.DropPathScheduleHook`
    ramps it linearly from 0 to ``drop_path_rate`` over training, as DARTS
    does.

    Args:
        genotype (Genotype | dict | str): The genotype, its dict, a
            published name (``'DARTS_V2'``) or a JSON file.
        num_layers (int): Cells. Defaults to 20.
        base_channels (int): Channels of the first cells. Defaults to 36.
        stem (str): ``'cifar'`` or ``'imagenet'``. Defaults to ``'cifar'``.
        in_channels (int): Image channels. Defaults to 3.
        stem_multiplier (int): CIFAR stem channels over ``base_channels``.
            Defaults to 3.
        auxiliary (bool): Also return the feature map for the auxiliary
            classifier. Defaults to False.
        drop_path_rate (float): Largest drop-path probability. Defaults to
            0.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 genotype: GenotypeLike,
                 num_layers: int = 20,
                 base_channels: int = 36,
                 stem: str = 'cifar',
                 in_channels: int = 3,
                 stem_multiplier: int = 3,
                 auxiliary: bool = False,
                 drop_path_rate: float = 0.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if stem not in STEMS:
            raise ValueError(f'DARTSBackbone: stem must be one of {STEMS}, '
                             f'got {stem!r}')
        if num_layers < 3 or not 0.0 <= drop_path_rate < 1.0:
            raise ValueError('DARTSBackbone: num_layers must be >= 3 and '
                             'drop_path_rate in [0, 1), got '
                             f'{num_layers}, {drop_path_rate}')
        self.genotype = load_genotype(genotype)
        self.num_layers = num_layers
        self.auxiliary = auxiliary
        self.drop_path_rate = float(drop_path_rate)
        self.drop_path_prob = 0.0
        c = base_channels
        if stem == 'cifar':
            self.stem = nn.Sequential(
                nn.Conv2d(
                    in_channels, stem_multiplier * c, 3, padding=1,
                    bias=False), nn.BatchNorm2d(stem_multiplier * c))
            self.stem1 = None
            prev_prev = prev = stem_multiplier * c
            reduction_prev = False
        else:
            self.stem = nn.Sequential(
                nn.Conv2d(
                    in_channels, c // 2, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True),
                nn.Conv2d(c // 2, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c))
            self.stem1 = nn.Sequential(
                nn.ReLU(inplace=False),
                nn.Conv2d(c, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c))
            prev_prev = prev = c
            reduction_prev = True
        self.reduction_layers = (num_layers // 3, 2 * num_layers // 3)
        #: The cell whose output feeds the auxiliary classifier.
        self.auxiliary_layer = 2 * num_layers // 3
        self.cells = nn.ModuleList()
        channels = c
        for i in range(num_layers):
            reduction = i in self.reduction_layers
            if reduction:
                channels *= 2
            cell_type = 'reduce' if reduction else 'normal'
            cell = DerivedCell(
                getattr(self.genotype, cell_type),
                getattr(self.genotype, f'{cell_type}_concat'), prev_prev, prev,
                channels, reduction, reduction_prev)
            self.cells.append(cell)
            reduction_prev = reduction
            prev_prev, prev = prev, cell.out_channels
            if i == self.auxiliary_layer:
                #: Channels of the auxiliary feature map.
                self.auxiliary_channels = prev
        #: Channels of the last feature map.
        self.out_channels = prev

    def set_drop_path_prob(self, prob: float) -> None:
        """Set the drop-path probability of the following passes."""
        if not 0.0 <= prob < 1.0:
            raise ValueError(f'DARTSBackbone: drop-path probability must be '
                             f'in [0, 1), got {prob}')
        self.drop_path_prob = float(prob)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """``(auxiliary feature map, last feature map)``, or the last
        feature map alone without ``auxiliary``."""
        s0 = self.stem(x)
        s1 = s0 if self.stem1 is None else self.stem1(s0)
        aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.auxiliary_layer:
                aux = s1
        return (aux, s1) if self.auxiliary else (s1, )
