# Copyright (c) mmdl contributors. All rights reserved.
"""ArchSearchClassifier: differentiable architecture search (DARTS, and
EDAS's single-edge search) as a model with its own ``train_step``."""
import copy
from typing import Dict, List, Optional, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmdl.models.nas import Genotype
from mmdl.registry import MODELS
from ..builder import build_classifier
from .unrolled import functional_loss, unrolled_arch_gradients

#: Names of the two optimisers in ``optim_wrapper``.
OPTIMIZERS = ('architecture', 'network')
#: What a search-space backbone must offer.
SEARCH_SPACE_API = ('arch_parameters', 'build_plan', 'derived_plan',
                    'using_plan', 'sample_edge', 'genotype', 'derive')
#: What :meth:`ArchSearchClassifier.forward` evaluates.
EVAL_NETWORKS = ('one_shot', 'derived')


def _params(wrapper: OptimWrapper) -> List[nn.Parameter]:
    return [
        p for group in wrapper.optimizer.param_groups for p in group['params']
    ]


@MODELS.register_module()
class ArchSearchClassifier(BaseModel):
    """Search a cell architecture by alternating architecture and weight
    updates (DARTS; EDAS with a ``'single_edge'`` search space).

    Every training step takes a weight batch (the main batch) and an
    architecture batch (``data[arch_key]``, from the other half of the
    training set through
    :class:`~mmdl.engine.loops.PairedEpochBasedTrainLoop`) and, as
    ``train_search.py`` of the DARTS reference code:

    1. draws the step's edge type (``'single_edge'``:
       ``backbone.sample_edge``) and randomness from a generator seeded by
       ``seed`` and the step count, so that every rank and a resumed run
       draw the same;
    2. updates the architecture parameters on the architecture batch with
       the ``'architecture'`` optimiser (first order: the gradient of the
       loss at the current weights; ``unrolled=True``: DARTS' second order
       with a finite-difference Hessian-vector product, see
       :func:`unrolled_arch_gradients`); skipped during the first
       ``warmup_epochs``;
    3. updates the weights on the weight batch with the ``'network'``
       optimiser, with the plan rebuilt from the updated parameters (the
       same edge type, or a new one with ``resample_edge``).

    Each backward pass reaches only its optimiser's parameters. Under
    ``tools/dist_train.sh`` the runner wraps the model in
    ``DelegatingDistributedDataParallel``, which averages each optimiser's
    gradients before it steps: the architecture gradients are all-reduced.

    Prediction (validation, ``tools/test.py``) evaluates the one-shot
    network (``eval_network='one_shot'``, the backbone's evaluation plan:
    the softmax mixtures in ``'darts'`` mode, the derived network in
    ``'single_edge'`` mode) or the derived network with the same weights
    (``'derived'``, any mode); the difference of the two accuracies is what
    derivation loses. :meth:`derived_classifier` gives the derived network
    as a separate model.

    Reconstructions (EDAS's optimisation details are not known): using the
    same edge type for both updates, the seeded edge draw, and warming up
    the weights before architecture updates.

    Args:
        classifier (dict | nn.Module): An mmpretrain ``ImageClassifier``
            (or its config) whose backbone is a search space such as
            :class:`~mmdl.models.SingleEdgeDARTS`.
        arch_key (str): The data-batch key of the architecture batch.
            Defaults to ``'arch'``.
        unrolled (bool): Second-order architecture gradients. Defaults to
            False.
        unrolled_radius (float): Finite-difference radius of the
            second-order gradient. Defaults to 0.01.
        warmup_epochs (int): Epochs of weight training before the first
            architecture update. Defaults to 0.
        resample_edge (bool): Draw another edge type for the weight update.
            Defaults to False.
        seed (int): Seed of the per-step draws. Defaults to 0.
        eval_network (str): ``'one_shot'`` or ``'derived'``. Defaults to
            ``'one_shot'``.
        data_preprocessor (dict, optional): The classifier's data
            preprocessor when its config has none.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 classifier: Union[dict, nn.Module],
                 arch_key: str = 'arch',
                 unrolled: bool = False,
                 unrolled_radius: float = 0.01,
                 warmup_epochs: int = 0,
                 resample_edge: bool = False,
                 seed: int = 0,
                 eval_network: str = 'one_shot',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        _, classifier = build_classifier(classifier, data_preprocessor)
        super().__init__(
            data_preprocessor=classifier.data_preprocessor, init_cfg=init_cfg)
        backbone = getattr(classifier, 'backbone', None)
        lacking = [n for n in SEARCH_SPACE_API if not hasattr(backbone, n)]
        if lacking:
            raise TypeError(
                'ArchSearchClassifier: the classifier\'s backbone must be a '
                f'search space (e.g. mmdl.SingleEdgeDARTS); '
                f'{type(backbone).__name__} lacks {lacking}')
        if warmup_epochs < 0 or unrolled_radius <= 0:
            raise ValueError('ArchSearchClassifier: warmup_epochs must be '
                             '>= 0 and unrolled_radius > 0, got '
                             f'{warmup_epochs}, {unrolled_radius}')
        if eval_network not in EVAL_NETWORKS:
            raise ValueError(f'ArchSearchClassifier: eval_network must be '
                             f'one of {EVAL_NETWORKS}, got {eval_network!r}')
        self.classifier = classifier
        self.eval_network = eval_network
        self.arch_key = arch_key
        self.unrolled = bool(unrolled)
        self.unrolled_radius = float(unrolled_radius)
        self.warmup_epochs = int(warmup_epochs)
        self.resample_edge = bool(resample_edge)
        self.seed = int(seed)
        #: Search steps taken (seeds the per-step draws; in checkpoints).
        self.register_buffer('search_step', torch.tensor(0, dtype=torch.long))

    # ------------------------------------------------------------------
    # accessors
    # ------------------------------------------------------------------
    @property
    def search_space(self) -> nn.Module:
        """The search-space backbone."""
        return self.classifier.backbone

    def arch_parameters(self) -> List[nn.Parameter]:
        """The architecture parameters."""
        return self.search_space.arch_parameters()

    def genotype(self) -> Genotype:
        """The current genotype."""
        return self.search_space.genotype()

    def derived_classifier(self) -> nn.Module:
        """A copy of the classifier whose backbone is the derived network
        (:meth:`SingleEdgeDARTS.derive`) with the current weights."""
        derived = copy.deepcopy(self.classifier)
        derived.backbone = self.search_space.derive()
        return derived

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """The classifier's modes, on the one-shot or the derived network
        (``eval_network``)."""
        if self.eval_network == 'derived':
            with self.search_space.using_plan(
                    self.search_space.derived_plan()):
                return self.classifier(inputs, data_samples, mode=mode)
        return self.classifier(inputs, data_samples, mode=mode)

    @staticmethod
    def _progress() -> tuple:
        """``(epoch, fraction of training done)`` from the message hub."""
        hub = MessageHub.get_current_instance()
        epoch = hub.get_info('epoch', 0) or 0
        max_iters = hub.get_info('max_iters')
        progress = (hub.get_info('iter', 0) or 0) / max_iters \
            if max_iters else 0.0
        return int(epoch), float(progress)

    def _loss(self, batch: dict, plan) -> Tensor:
        with self.search_space.using_plan(plan):
            losses = self.classifier.loss(batch['inputs'],
                                          batch['data_samples'])
        loss, _ = self.parse_losses(losses)
        return loss

    def _check_optim_wrapper(self, optim_wrapper) -> None:
        if not isinstance(optim_wrapper,
                          OptimWrapperDict) or not set(OPTIMIZERS) <= set(
                              optim_wrapper.keys()):
            keys = (
                list(optim_wrapper.keys()) if isinstance(
                    optim_wrapper, OptimWrapperDict) else
                type(optim_wrapper).__name__)
            raise TypeError(
                'ArchSearchClassifier.train_step: optim_wrapper must hold '
                f'the optimisers {list(OPTIMIZERS)} (config: optim_wrapper='
                "dict(constructor='PartitionedOptimWrapperConstructor', "
                'architecture=dict(params=[...], optimizer=...), network='
                f'dict(optimizer=...))), got {keys}')

    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One search step: an architecture update, then a weight update.

        Args:
            data (dict): The weight batch with the architecture batch under
                ``arch_key``.
            optim_wrapper (OptimWrapperDict): ``'architecture'`` and
                ``'network'`` optimisers.

        Returns:
            dict[str, Tensor]: Log variables: ``loss`` (weight batch) and
            ``arch_loss`` (architecture batch, when updated).
        """
        self._check_optim_wrapper(optim_wrapper)
        if not isinstance(data, dict) or self.arch_key not in data:
            raise KeyError(
                f'ArchSearchClassifier: the data batch has no '
                f'{self.arch_key!r} entry; train with train_cfg=dict(type='
                "'PairedEpochBasedTrainLoop', paired_dataloaders=dict("
                f'{self.arch_key}=...)) and the other half of the training '
                'set')
        data = dict(data)
        arch_data = data.pop(self.arch_key)
        space = self.search_space
        step = int(self.search_step)
        generator = torch.Generator().manual_seed(self.seed * 1000003 + step)
        epoch, progress = self._progress()
        single_edge = getattr(space, 'mode', None) == 'single_edge'
        edge = space.sample_edge(step, generator) if single_edge else None
        log_vars: Dict[str, Tensor] = {}
        network = optim_wrapper['network']
        train_batch = None

        arch_params = self.arch_parameters()
        if arch_params and epoch >= self.warmup_epochs:
            arch = optim_wrapper['architecture']
            plan = space.build_plan(edge, generator, progress)
            with arch.optim_context(self):
                val_batch = self.data_preprocessor(arch_data, True)
                if self.unrolled:
                    train_batch = self.data_preprocessor(data, True)
                    with space.using_plan(plan):
                        grads, arch_loss = unrolled_arch_gradients(
                            self.classifier, functional_loss, train_batch,
                            val_batch, arch_params, network.optimizer,
                            self.unrolled_radius)
                    for p, g in zip(arch_params, grads):
                        p.grad = None if g is None else g.detach()
                else:
                    arch_loss = self._loss(val_batch, plan)
            if not self.unrolled:
                arch.backward(arch.scale_loss(arch_loss), inputs=arch_params)
            arch.step()
            arch.zero_grad()
            log_vars['arch_loss'] = arch_loss.detach()

        if self.resample_edge and edge is not None:
            edge = space.sample_edge(step + 1, generator)
        plan = space.build_plan(edge, generator, progress)
        with network.optim_context(self):
            if train_batch is None:
                train_batch = self.data_preprocessor(data, True)
            with space.using_plan(plan):
                losses = self.classifier.loss(train_batch['inputs'],
                                              train_batch['data_samples'])
        loss, weight_logs = self.parse_losses(losses)
        network.backward(network.scale_loss(loss), inputs=_params(network))
        if network.should_update():
            network.step()
            network.zero_grad()
        self.search_step += 1
        weight_logs.update(log_vars)
        return weight_logs
