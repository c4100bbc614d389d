# Copyright (c) mmdl contributors. All rights reserved.
"""Building the classifier that an algorithm model holds."""
import copy
from typing import Optional, Tuple, Union

from torch import nn

from mmdl.registry import MODELS


def build_classifier(classifier: Union[dict, nn.Module],
                     data_preprocessor: Optional[dict] = None
                     ) -> Tuple[Optional[dict], nn.Module]:
    """Build an algorithm's classifier from its config.

    mmengine's runner passes the config's top-level ``data_preprocessor``
    to the algorithm model; it becomes the classifier's when the
    classifier's config has none.

    Args:
        classifier (dict | nn.Module): The classifier or its config.
        data_preprocessor (dict, optional): The default data preprocessor.

    Returns:
        tuple: The config the classifier was built from (a copy; None for
        a module) and the classifier.
    """
    if not isinstance(classifier, dict):
        return None, classifier
    cfg = dict(classifier)
    if data_preprocessor is not None:
        cfg.setdefault('data_preprocessor', data_preprocessor)
    return copy.deepcopy(cfg), MODELS.build(cfg)
