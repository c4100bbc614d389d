# Copyright (c) mmdl contributors. All rights reserved.
"""Neural architecture search: the DARTS search space with single-edge
relaxation (EDAS), genotypes and their derivation."""
from .derivation import (derive_cell, derive_genotype, edge_endpoints,
                         edge_index, genotype_choices, num_edges)
from .genotype import (DARTS_V1, DARTS_V2, GENOTYPES, Genotype, dump_genotype,
                       format_genotype, genotype_from_dict, genotype_to_dict,
                       load_genotype)
from .operations import (PRIMITIVES, DilConv, FactorizedReduce, ReLUConvBN,
                         SepConv, Zero, build_operation)
from .plan import ArchitecturePlan
from .search_cell import SearchCell, SearchEdge, build_search_operation
from .single_edge_darts import SingleEdgeDARTS

__all__ = [
    'PRIMITIVES', 'DilConv', 'FactorizedReduce', 'ReLUConvBN', 'SepConv',
    'Zero', 'build_operation', 'Genotype', 'DARTS_V1', 'DARTS_V2', 'GENOTYPES',
    'dump_genotype', 'format_genotype', 'genotype_from_dict',
    'genotype_to_dict', 'load_genotype', 'derive_cell', 'derive_genotype',
    'edge_endpoints', 'edge_index', 'genotype_choices', 'num_edges',
    'ArchitecturePlan', 'SearchCell', 'SearchEdge', 'build_search_operation',
    'SingleEdgeDARTS'
]
