# Copyright (c) mmdl contributors. All rights reserved.
"""What a search network computes in one forward pass.

An :class:`ArchitecturePlan` gives every edge of every cell one
:data:`Choice`:

* ``None``: the edge is absent (contributes nothing, computes nothing);
* an ``int``: the edge is *clamped* to that operation (index in
  :data:`~mmdl.models.nas.PRIMITIVES`) with weight exactly 1, and only that
  operation runs;
* a 1-d tensor of ``len(PRIMITIVES)`` weights: the edge is *relaxed*, a
  weighted sum of all operations (``none`` contributes exactly zero and is
  not called).

DARTS relaxes every edge; EDAS relaxes one edge type and clamps the others
to the current genotype; a discrete network clamps every edge.
"""
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

from torch import Tensor

from .operations import PRIMITIVES

Choice = Union[None, int, Tensor]
#: An edge type: the cell type (``'normal'`` or ``'reduce'``) and the edge.
EdgeType = Tuple[str, int]


@dataclass
class ArchitecturePlan:
    """The choices of one forward pass.

    Attributes:
        choices (dict): Cell type to its per-edge :data:`Choice` list,
            shared by every cell of that type.
        relaxed (tuple, optional): The relaxed edge type of a single-edge
            step, ``(cell_type, edge)``; None otherwise.
        relaxed_weights (Tensor, optional): Its operation weights.
        relaxed_cells (list[int], optional): The cells (network indices) in
            which the relaxed edge is relaxed; None for every cell of its
            type. The other cells keep the edge's entry in ``choices``.
    """
    choices: Dict[str, List[Choice]]
    relaxed: Optional[EdgeType] = None
    relaxed_weights: Optional[Tensor] = None
    relaxed_cells: Optional[Sequence[int]] = field(default=None)

    def cell_choices(self, cell_type: str, cell_index: int) -> List[Choice]:
        """The choices of one cell of the network.

        Args:
            cell_type (str): ``'normal'`` or ``'reduce'``.
            cell_index (int): The cell's position in the network.

        Returns:
            list[Choice]: One choice per edge.
        """
        choices = self.choices[cell_type]
        if self.relaxed is None or self.relaxed[0] != cell_type or (
                self.relaxed_cells is not None
                and cell_index not in self.relaxed_cells):
            return choices
        choices = list(choices)
        choices[self.relaxed[1]] = self.relaxed_weights
        return choices

    def active_operations(self, cell_type: str,
                          cell_index: int) -> List[List[int]]:
        """Per edge, the operations that run (``none`` never runs)."""
        active = []
        for choice in self.cell_choices(cell_type, cell_index):
            if choice is None:
                active.append([])
            elif isinstance(choice, int):
                active.append([choice])
            else:
                active.append(
                    [k for k, name in enumerate(PRIMITIVES) if name != 'none'])
        return active
