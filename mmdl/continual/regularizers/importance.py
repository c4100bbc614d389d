# Copyright (c) mmdl contributors. All rights reserved.
"""Per-parameter importance penalties ``sum_i Omega_i (theta_i -
theta*_i)^2`` (the common part of SI and MAS)."""
from collections import OrderedDict
from typing import Dict, List, Optional

from torch import Tensor, nn

from ..curvature import find_layers
from .base import BaseRegularizer


class ParameterImportanceRegularizer(BaseRegularizer):
    """Base class of ``sum_i Omega_i (theta_i - theta*_i)^2``.

    ``Omega`` is one non-learned importance per parameter entry,
    accumulated over the consolidated tasks, and ``theta*`` the weights at
    the end of the latest consolidated task. There is no factor 1/2 (unlike
    :class:`~mmdl.continual.regularizers.EWCRegularizer`'s ``1/2 sum F
    dW^2``): SI and MAS write their penalties as ``c sum Omega dtheta^2``
    and ``lambda sum Omega dtheta^2``, and the ``c`` / ``lambda`` of the
    papers is the ``penalty_weight`` of
    :class:`~mmdl.engine.hooks.RegularizerHook` (exactly so with
    ``task_weighting=False`` and ``adaptive_scaling=False``).

    The parameters are those EWC penalises: the weights and biases of the
    Linear/Conv2d layers and, with ``include_bn``, the gamma/beta of the
    affine batch norms (selected with
    :func:`~mmdl.continual.curvature.find_layers`), keyed by their
    parameter names (``model.named_parameters()``); parameters that do not
    require gradients are left out.

    Subclasses compute the importance (:meth:`consolidate`) and add it with
    :meth:`add_importance`.

    Args:
        layers (list[str], optional): Module names of the layers to
            penalise. Defaults to all supported layers.
        include_bn (bool): Also penalise the affine batch norms' gamma and
            beta. Defaults to False.
    """

    def __init__(self,
                 layers: Optional[List[str]] = None,
                 include_bn: bool = False) -> None:
        if layers is not None and (isinstance(layers, str) or not all(
                isinstance(name, str) for name in layers)):
            raise TypeError(f'{type(self).__name__}: layers must be a list '
                            f'of module names or None, got {layers!r}')
        self.layers = None if layers is None else list(layers)
        self.include_bn = bool(include_bn)
        #: Accumulated importance ``Omega`` by parameter name.
        self.importance: Dict[str, Tensor] = {}
        #: Anchor ``theta*`` (weights at the latest consolidation).
        self.anchors: Dict[str, Tensor] = {}
        #: Number of consolidated tasks.
        self.num_tasks = 0

    def penalised_parameters(self, model: nn.Module) -> Dict[str, Tensor]:
        """The parameters the penalty covers, by parameter name.

        Args:
            model (nn.Module): The model.

        Returns:
            OrderedDict: Parameter name to parameter, in model order.
        """
        params = OrderedDict()
        for layer_name, layer in find_layers(model, self.layers,
                                             self.include_bn).items():
            for pname, param in layer.named_parameters(recurse=False):
                if pname in ('weight', 'bias') and param.requires_grad:
                    full = f'{layer_name}.{pname}' if layer_name else pname
                    params[full] = param
        return params

    def add_importance(self,
                       importance: Dict[str, Tensor],
                       mode: str = 'sum') -> None:
        """Add one task's importance and count the task.

        Args:
            importance (dict[str, Tensor]): The task's importance by
                parameter name, shaped like the parameters.
            mode (str): ``'sum'`` (``Omega += Omega_task``) or ``'mean'``
                (``Omega`` is the average over the consolidated tasks).
                Defaults to ``'sum'``.
        """
        if mode not in ('sum', 'mean'):
            raise ValueError(f"{type(self).__name__}: mode must be 'sum' or "
                             f"'mean', got {mode!r}")
        count = self.num_tasks
        merged = {}
        for name, value in importance.items():
            value = value.detach()
            old = self.importance.get(name)
            if old is None:
                # a parameter new to the penalty: absent before = 0
                merged[name] = value.clone() if mode == 'sum' else \
                    value / (count + 1)
            elif mode == 'sum':
                merged[name] = old + value
            else:
                merged[name] = (old * count + value) / (count + 1)
        for name, old in self.importance.items():
            if name not in merged:
                merged[name] = old if mode == 'sum' else \
                    old * count / (count + 1)
        self.importance = merged
        self.num_tasks = count + 1

    def set_anchor(self, model: nn.Module) -> None:
        """Centre the penalty on the model's current weights (``theta*``).

        Only called at consolidation: the importance is not re-expressed
        after changes of coordinates (batch-norm merging), which
        :meth:`scale_layer_outputs` / :meth:`transform_bn_unit` refuse.

        Args:
            model (nn.Module): The model.
        """
        self.anchors = {
            name: p.detach().clone()
            for name, p in self.penalised_parameters(model).items()
        }

    def penalty_gradient(self, params: Dict[str, Tensor]) -> Dict[str, Tensor]:
        """``d/dtheta sum Omega (theta - theta*)^2 = 2 Omega (theta -
        theta*)`` of the given parameters (detached; zeros before the
        first consolidation).

        Args:
            params (dict[str, Tensor]): Parameters by name.

        Returns:
            dict[str, Tensor]: The gradient of each parameter.
        """
        out = {}
        for name, p in params.items():
            if name in self.importance and name in self.anchors:
                out[name] = 2 * self.importance[name] * (
                    p.detach() - self.anchors[name])
            else:
                out[name] = p.detach().new_zeros(p.shape)
        return out

    def __call__(self, model: nn.Module) -> Tensor:
        """``sum_i Omega_i (theta_i - theta*_i)^2``.

        Args:
            model (nn.Module): The model being trained.

        Returns:
            Tensor: A scalar; zero before the first consolidation.

        Raises:
            KeyError: A parameter with stored importance is no longer in
                the model.
        """
        params = dict(model.named_parameters())
        total = None
        for name, omega in self.importance.items():
            if name not in params:
                raise KeyError(
                    f'{type(self).__name__}: parameter {name!r} has a stored '
                    'importance but is not a parameter of the model')
            delta = params[name] - self.anchors[name]
            value = (omega * delta * delta).sum()
            total = value if total is None else total + value
        if total is None:
            return next(iter(model.parameters())).new_zeros(())
        return total

    def state_dict(self) -> Dict:
        """``importance``, ``anchors`` (dicts of tensors by parameter name)
        and ``num_tasks``."""
        return dict(
            importance=dict(self.importance),
            anchors=dict(self.anchors),
            num_tasks=self.num_tasks)

    def load_state_dict(self, state: Dict) -> None:
        """Restore the output of :meth:`state_dict`.

        Raises:
            KeyError: A key of :meth:`state_dict` is missing.
        """
        missing = [
            k for k in ('importance', 'anchors', 'num_tasks') if k not in state
        ]
        if missing:
            raise KeyError(f'{type(self).__name__}.load_state_dict: the state '
                           f'lacks {missing} (expected the keys of '
                           'state_dict())')
        self.importance = dict(state['importance'])
        self.anchors = dict(state['anchors'])
        self.num_tasks = int(state['num_tasks'])
