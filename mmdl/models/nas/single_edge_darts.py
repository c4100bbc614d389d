# Copyright (c) mmdl contributors. All rights reserved.
"""SingleEdgeDARTS: the DARTS search space with DARTS, single-edge (EDAS)
and discrete edges in one network.

Paper: "EDAS: Efficient and Differentiable Architecture Search", Hong, Ahn
and Kim, arXiv 1912.01237. Search space: Liu, Simonyan and Yang, "DARTS:
Differentiable Architecture Search", ICLR 2019.

Written here because no maintained OpenMMLab implementation exists
(mmrazor's DARTS does not import with current mmcv) and no library offers
single-edge relaxation.
"""
import contextlib
import copy
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdl.registry import MODELS
from .derivation import derive_genotype, genotype_choices, num_edges
from .genotype import CELL_TYPES, Genotype, GenotypeLike, load_genotype
from .operations import PRIMITIVES
from .plan import ArchitecturePlan, Choice, EdgeType
from .search_cell import SearchCell

EDGE_MODES = ('darts', 'single_edge', 'discrete')
EDGE_SAMPLING = ('uniform', 'round_robin')
CLAMP_RULES = ('genotype', 'argmax', 'sample')
RELAX_CELLS = ('all', 'one')
NONE = PRIMITIVES.index('none')


@MODELS.register_module()
class SingleEdgeDARTS(BaseModule):
    """The DARTS search space as a backbone, with three edge modes.

    The network is the DARTS search network (``model_search.py`` of the
    reference code): a 3x3 convolution stem to ``stem_multiplier *
    base_channels`` channels, ``num_layers`` cells with reduction cells at
    1/3 and 2/3 of the depth (channels doubling at each), ``num_nodes``
    intermediate nodes per cell. Architecture parameters ``alphas_normal``
    and ``alphas_reduce`` (one vector of ``len(PRIMITIVES)`` logits per
    edge, initialised ``alpha_init_std * randn``) are shared by all cells
    of a type. It returns the last cell's feature map as a 1-tuple, for a
    global-pooling neck and a linear head.

    Edge modes (``mode``):

    * ``'darts'``: every edge is the softmax mixture of all operations.
    * ``'single_edge'`` (EDAS): in a search step one sampled edge type is
      relaxed (softmax over all operations, in every cell of its type) and
      every other edge is clamped to the current genotype
      (:meth:`genotype`): weight 1 on its derived operation, or absent.
      Only the active operations run. Without a relaxed edge (evaluation)
      the network *is* the derived network.
    * ``'discrete'``: the fixed ``genotype``; only its operations are
      built. :meth:`derive` returns this network with the search weights.

    Exploration options, used by search steps only (:meth:`build_plan`
    with a generator; all off by default): ``clamp`` (``'genotype'``, or
    per-edge ``'argmax'`` including ``none``, or ``'sample'`` from
    ``softmax(alpha)``), ``epsilon`` (each clamped edge takes a uniformly
    random operation with this probability), ``temperature`` and
    ``gumbel`` on relaxed edges, ``relax_cells='one'`` (relax the edge in
    one random cell of its type) and ``max_skip_connect`` (P-DARTS' cap on
    the normal cell's skip connections, applied by the derivation itself).

    Reconstructions (the EDAS paper's details are not known): the uniform
    edge-type sampling, clamping to the DARTS-derived genotype, the softmax
    on the relaxed edge, relaxing it in every cell, and every exploration
    option.

    Args:
        mode (str): ``'darts'``, ``'single_edge'`` or ``'discrete'``.
            Defaults to ``'single_edge'``.
        num_layers (int): Cells. Defaults to 8.
        base_channels (int): Channels of the first cells. Defaults to 16.
        num_nodes (int): Intermediate nodes per cell. Defaults to 4.
        stem_multiplier (int): Stem channels over ``base_channels``.
            Defaults to 3.
        in_channels (int): Image channels. Defaults to 3.
        genotype (Genotype | dict | str, optional): The architecture of the
            ``'discrete'`` mode: a genotype, its dict, a published name
            (``'DARTS_V2'``) or a JSON file.
        edge_sampling (str): ``'uniform'`` over all edge types or
            ``'round_robin'``. Defaults to ``'uniform'``.
        clamp (str): How search steps clamp the other edges. Defaults to
            ``'genotype'``.
        epsilon (float): Epsilon-greedy clamping. Defaults to 0.
        temperature (float | tuple[float, float]): Softmax temperature of
            relaxed edges in search steps, or ``(start, end)`` annealed
            linearly over training. Defaults to 1.
        gumbel (bool): Add Gumbel noise to the relaxed logits in search
            steps. Defaults to False.
        relax_cells (str): ``'all'`` cells of the relaxed edge's type or
            ``'one'``. Defaults to ``'all'``.
        max_skip_connect (int, optional): Cap on the normal cell's skip
            connections in the derived genotype. Defaults to None.
        alpha_init_std (float): Standard deviation of the initial
            architecture logits. Defaults to 1e-3.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 mode: str = 'single_edge',
                 num_layers: int = 8,
                 base_channels: int = 16,
                 num_nodes: int = 4,
                 stem_multiplier: int = 3,
                 in_channels: int = 3,
                 genotype: Optional[GenotypeLike] = None,
                 edge_sampling: str = 'uniform',
                 clamp: str = 'genotype',
                 epsilon: float = 0.0,
                 temperature: Union[float, Sequence[float]] = 1.0,
                 gumbel: bool = False,
                 relax_cells: str = 'all',
                 max_skip_connect: Optional[int] = None,
                 alpha_init_std: float = 1e-3,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self._check_options(mode, edge_sampling, clamp, relax_cells, epsilon,
                            num_layers, num_nodes, base_channels, genotype)
        self.mode = mode
        self.num_layers = num_layers
        self.base_channels = base_channels
        self.num_nodes = num_nodes
        self.stem_multiplier = stem_multiplier
        self.in_channels = in_channels
        self.edge_sampling = edge_sampling
        self.clamp = clamp
        self.epsilon = float(epsilon)
        self.temperature = self._check_temperature(temperature)
        self.gumbel = bool(gumbel)
        self.relax_cells = relax_cells
        self.max_skip_connect = max_skip_connect
        self.alpha_init_std = float(alpha_init_std)

        self.fixed_genotype: Optional[Genotype] = None
        op_names = None
        if mode == 'discrete':
            self.fixed_genotype = load_genotype(genotype)
            if len(self.fixed_genotype.normal) != 2 * num_nodes:
                raise ValueError(
                    f'SingleEdgeDARTS: the genotype has '
                    f'{len(self.fixed_genotype.normal) // 2} nodes per cell, '
                    f'num_nodes is {num_nodes}')
            self._fixed_choices = {
                cell:
                genotype_choices(
                    getattr(self.fixed_genotype, cell), num_nodes)
                for cell in CELL_TYPES
            }
            op_names = {
                cell: [[] if c is None else [PRIMITIVES[c]] for c in choices]
                for cell, choices in self._fixed_choices.items()
            }

        stem_channels = stem_multiplier * base_channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(stem_channels))
        prev_prev, prev, channels = stem_channels, stem_channels, \
            base_channels
        self.reduction_layers = sorted({num_layers // 3, 2 * num_layers // 3})
        self.cells = nn.ModuleList()
        reduction_prev = False
        for i in range(num_layers):
            reduction = i in self.reduction_layers
            if reduction:
                channels *= 2
            cell_type = 'reduce' if reduction else 'normal'
            cell = SearchCell(
                num_nodes, prev_prev, prev, channels, reduction,
                reduction_prev,
                None if op_names is None else op_names[cell_type])
            self.cells.append(cell)
            reduction_prev = reduction
            prev_prev, prev = prev, cell.out_channels
        self.out_channels = prev

        if mode != 'discrete':
            self.alphas_normal = self._new_alphas()
            self.alphas_reduce = self._new_alphas()
        self._plan: Optional[ArchitecturePlan] = None

    # ------------------------------------------------------------------
    # checks
    # ------------------------------------------------------------------
    @staticmethod
    def _check_options(mode, edge_sampling, clamp, relax_cells, epsilon,
                       num_layers, num_nodes, base_channels, genotype) -> None:
        for name, value, allowed in (('mode', mode, EDGE_MODES),
                                     ('edge_sampling', edge_sampling,
                                      EDGE_SAMPLING), ('clamp', clamp,
                                                       CLAMP_RULES),
                                     ('relax_cells', relax_cells,
                                      RELAX_CELLS)):
            if value not in allowed:
                raise ValueError(f'SingleEdgeDARTS: {name} must be one of '
                                 f'{allowed}, got {value!r}')
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError('SingleEdgeDARTS: epsilon must be in [0, 1], '
                             f'got {epsilon}')
        if num_layers < 1 or num_nodes < 1 or base_channels < 1:
            raise ValueError('SingleEdgeDARTS: num_layers, num_nodes and '
                             'base_channels must be positive, got '
                             f'{num_layers}, {num_nodes}, {base_channels}')
        if (mode == 'discrete') != (genotype is not None):
            raise ValueError("SingleEdgeDARTS: mode='discrete' needs a "
                             'genotype and the search modes take none '
                             f'(mode={mode!r}, genotype={genotype!r})')

    @staticmethod
    def _check_temperature(temperature) -> Tuple[float, float]:
        if isinstance(temperature, (int, float)):
            temperature = (temperature, temperature)
        temperature = tuple(float(t) for t in temperature)
        if len(temperature) != 2 or min(temperature) <= 0:
            raise ValueError('SingleEdgeDARTS: temperature must be a '
                             'positive number or a (start, end) pair, got '
                             f'{temperature}')
        return temperature

    def _new_alphas(self) -> nn.ParameterList:
        # one parameter per edge: an edge that is not relaxed gets no
        # gradient, so neither Adam's moments nor weight decay move it
        return nn.ParameterList([
            nn.Parameter(self.alpha_init_std * torch.randn(len(PRIMITIVES)))
            for _ in range(num_edges(self.num_nodes))
        ])

    # ------------------------------------------------------------------
    # architecture
    # ------------------------------------------------------------------
    @property
    def num_edges(self) -> int:
        """Edges per cell (14 for 4 nodes)."""
        return num_edges(self.num_nodes)

    @property
    def edge_types(self) -> List[EdgeType]:
        """Every edge type, ``('normal', 0) ... ('reduce', E - 1)``."""
        return [(cell, e) for cell in CELL_TYPES
                for e in range(self.num_edges)]

    def arch_parameters(self) -> List[nn.Parameter]:
        """The architecture parameters (none in ``'discrete'`` mode)."""
        if self.mode == 'discrete':
            return []
        return list(self.alphas_normal) + list(self.alphas_reduce)

    def alphas(self, cell_type: str) -> Tensor:
        """The ``[num_edges, len(PRIMITIVES)]`` logits of a cell type."""
        if self.mode == 'discrete':
            raise RuntimeError('SingleEdgeDARTS: a discrete network has no '
                               'architecture parameters')
        return torch.stack(list(getattr(self, f'alphas_{cell_type}')))

    def genotype(self) -> Genotype:
        """The current genotype: the DARTS derivation of the architecture
        parameters (with ``max_skip_connect``), or the fixed genotype."""
        if self.fixed_genotype is not None:
            return self.fixed_genotype
        return derive_genotype(
            self.alphas('normal'), self.alphas('reduce'),
            self.max_skip_connect)

    def sample_edge(self,
                    step: int,
                    generator: Optional[torch.Generator] = None) -> EdgeType:
        """The edge type to relax at search step ``step``: uniform (drawn
        from ``generator``) or round-robin."""
        count = 2 * self.num_edges
        if self.edge_sampling == 'round_robin':
            index = step % count
        else:
            index = int(torch.randint(count, (1, ), generator=generator))
        return self.edge_types[index]

    def current_temperature(self, progress: float) -> float:
        """The relaxation temperature at ``progress`` (0 to 1) of
        training."""
        start, end = self.temperature
        return start + (end - start) * min(max(progress, 0.0), 1.0)

    def _relax(self, logits: Tensor, generator: Optional[torch.Generator],
               progress: float) -> Tensor:
        if generator is None:  # evaluation: the plain softmax
            return torch.softmax(logits, -1)
        if self.gumbel:
            uniform = torch.rand(logits.shape, generator=generator).to(logits)
            logits = logits - torch.log(-torch.log(uniform.clamp_min(1e-20)))
        return torch.softmax(logits / self.current_temperature(progress), -1)

    def _clamped(
            self,
            generator: Optional[torch.Generator]) -> Dict[str, List[Choice]]:
        genotype = self.genotype()
        clamped = {}
        for cell in CELL_TYPES:
            if generator is None or self.clamp == 'genotype':
                choices = genotype_choices(
                    getattr(genotype, cell), self.num_nodes)
            else:
                alphas = self.alphas(cell).detach().float()
                if self.clamp == 'argmax':
                    picks = alphas.argmax(-1)
                else:
                    picks = torch.multinomial(
                        torch.softmax(alphas, -1).cpu(),
                        1,
                        generator=generator).squeeze(1)
                choices = [None if k == NONE else k for k in picks.tolist()]
            if generator is not None and self.epsilon > 0:
                explore = torch.rand(
                    len(choices), generator=generator) < self.epsilon
                ops = torch.randint(
                    1, len(PRIMITIVES), (len(choices), ), generator=generator)
                choices = [
                    int(op) if c is not None and flip else c
                    for c, flip, op in zip(choices, explore.tolist(),
                                           ops.tolist())
                ]
            clamped[cell] = choices
        return clamped

    def build_plan(self,
                   relaxed_edge: Optional[EdgeType] = None,
                   generator: Optional[torch.Generator] = None,
                   progress: float = 0.0) -> ArchitecturePlan:
        """The plan of a forward pass.

        Without a ``generator`` (evaluation) exploration is off: DARTS
        edges are the plain softmax mixtures, single-edge networks are
        clamped to :meth:`genotype`. With one (search steps) the clamping
        rule, epsilon-greedy, Gumbel noise, the temperature and
        ``relax_cells='one'`` apply, drawn from it.

        Args:
            relaxed_edge (tuple, optional): The edge type to relax
                (``'single_edge'`` mode).
            generator (torch.Generator, optional): Randomness of a search
                step.
            progress (float): Training progress (0 to 1), for the
                temperature schedule. Defaults to 0.

        Returns:
            ArchitecturePlan: The plan.
        """
        if self.mode == 'discrete':
            return ArchitecturePlan(choices=self._fixed_choices)
        if self.mode == 'darts':
            return ArchitecturePlan(
                choices={
                    cell: list(
                        self._relax(self.alphas(cell), generator, progress))
                    for cell in CELL_TYPES
                })
        plan = ArchitecturePlan(choices=self._clamped(generator))
        if relaxed_edge is not None:
            cell, edge = relaxed_edge
            if cell not in CELL_TYPES or not 0 <= edge < self.num_edges:
                raise ValueError(f'SingleEdgeDARTS: no edge type '
                                 f'{relaxed_edge!r}')
            plan.relaxed = (cell, edge)
            plan.relaxed_weights = self._relax(
                getattr(self, f'alphas_{cell}')[edge], generator, progress)
            if self.relax_cells == 'one':
                cells = [
                    i for i, c in enumerate(self.cells)
                    if c.reduction == (cell == 'reduce')
                ]
                pick = (0 if generator is None else int(
                    torch.randint(len(cells), (1, ), generator=generator)))
                plan.relaxed_cells = [cells[pick]]
        return plan

    def derived_plan(self) -> ArchitecturePlan:
        """Every edge clamped to :meth:`genotype`: this network computes
        the derived network (:meth:`derive`) with its own weights, in any
        mode."""
        genotype = self.genotype()
        return ArchitecturePlan(
            choices={
                cell: genotype_choices(
                    getattr(genotype, cell), self.num_nodes)
                for cell in CELL_TYPES
            })

    @contextlib.contextmanager
    def using_plan(self, plan: ArchitecturePlan) -> Iterator[None]:
        """Forward passes inside the context follow ``plan`` (outside it:
        :meth:`build_plan` without exploration)."""
        previous, self._plan = self._plan, plan
        try:
            yield
        finally:
            self._plan = previous

    def derive(self) -> 'SingleEdgeDARTS':
        """The derived network: ``'discrete'`` mode with the current
        genotype, holding (copies of) this network's weights and running
        statistics for the operations it keeps.

        Returns:
            SingleEdgeDARTS: The derived network, in this network's
            training mode and on its device.
        """
        with torch.random.fork_rng(devices=[]):
            derived = SingleEdgeDARTS(
                mode='discrete',
                genotype=self.genotype(),
                num_layers=self.num_layers,
                base_channels=self.base_channels,
                num_nodes=self.num_nodes,
                stem_multiplier=self.stem_multiplier,
                in_channels=self.in_channels)
        state = self.state_dict()
        wanted = derived.state_dict()
        missing = [k for k in wanted if k not in state]
        if missing:
            raise KeyError(f'SingleEdgeDARTS.derive: the search network '
                           f'lacks {missing[:3]}')
        derived.load_state_dict({k: copy.deepcopy(state[k]) for k in wanted})
        device = next(self.parameters()).device
        return derived.to(device).train(self.training)

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def forward(self, x: Tensor) -> Tuple[Tensor]:
        """The last cell's feature map, computed with the active plan."""
        plan = self._plan if self._plan is not None else self.build_plan()
        s0 = s1 = self.stem(x)
        for index, cell in enumerate(self.cells):
            cell_type = 'reduce' if cell.reduction else 'normal'
            s0, s1 = s1, cell(s0, s1, plan.cell_choices(cell_type, index))
        return (s1, )
