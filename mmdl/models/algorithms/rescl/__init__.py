# Copyright (c) mmdl contributors. All rights reserved.
from .combination import (AffineBranch, ResidualCombination, UnitSpec,
                          combine_classifier, combine_units, find_units)
from .merge import (classifier_plain_state_dict, merged_parameters,
                    plain_state_dict, wrapped_state_dict, write_merged)
from .wrapper import ResCLWrapper

__all__ = [
    'AffineBranch', 'ResidualCombination', 'UnitSpec', 'combine_classifier',
    'combine_units', 'find_units', 'classifier_plain_state_dict',
    'merged_parameters', 'plain_state_dict', 'wrapped_state_dict',
    'write_merged', 'ResCLWrapper'
]
