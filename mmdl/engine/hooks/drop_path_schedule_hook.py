# Copyright (c) mmdl contributors. All rights reserved.
"""Ramp the drop-path probability of a network over training."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdl.registry import HOOKS


@HOOKS.register_module()
class DropPathScheduleHook(Hook):
    """Before every training epoch ``e`` (0-based) of ``E``, set the
    drop-path probability of every module of the model that has
    ``set_drop_path_prob`` (e.g. :class:`~mmdl.models.DARTSBackbone`) to
    ``module.drop_path_rate * e / E``: a linear ramp from 0, as the DARTS
    reference code trains its evaluation networks.

    Raises:
        TypeError: No module of the model has ``set_drop_path_prob``.
    """

    priority = 'NORMAL'

    @staticmethod
    def _targets(runner) -> list:
        model = runner.model
        model = model.module if is_model_wrapper(model) else model
        targets = [
            m for m in model.modules()
            if callable(getattr(m, 'set_drop_path_prob', None))
        ]
        if not targets:
            raise TypeError('DropPathScheduleHook: no module of '
                            f'{type(model).__name__} has set_drop_path_prob '
                            '(e.g. mmdl.DARTSBackbone)')
        return targets

    def before_train(self, runner) -> None:
        """Fail early on a model without drop-path."""
        self._targets(runner)

    def before_train_epoch(self, runner) -> None:
        """Set the probability of the epoch about to start."""
        progress = runner.epoch / max(runner.max_epochs, 1)
        for module in self._targets(runner):
            module.set_drop_path_prob(module.drop_path_rate * progress)
