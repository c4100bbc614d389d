# Copyright (c) mmdl contributors. All rights reserved.
"""ResCLWrapper: residual continual learning (Lee, Joo, Hong and Kim,
AAAI 2020)."""
import copy
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmdl.continual.bn_merge import (bn_input_moments, moments_to_mean_var,
                                     reparameterise_bn)
from mmdl.continual.distillation import soft_target_kl
from mmdl.registry import MODELS
from ..builder import build_classifier
from .combination import (COMBINED_PARTS, MODES, ResidualCombination,
                          UnitSpec, combine_classifier)
from .merge import (classifier_plain_state_dict, merged_parameters,
                    wrapped_state_dict, write_merged)



@MODELS.register_module()
class ResCLWrapper(BaseModel):
    """Residual continual learning around any multi-head classifier built
    from Linear, Conv2d and BatchNorm layers.

    Every unit of the backbone and neck (a layer with the batch norm it
    feeds, a layer alone, or a standalone pre-activation batch norm; see
    :mod:`.combination`) becomes a :class:`ResidualCombination` with a
    source branch, a target copy and per-channel coefficients. The wrapper
    is always in one of three modes, kept in its state dict:

    * ``'source'``: the plain network (training the first task, and after
      every merge);
    * ``'target'``: the target copy, fine-tuned with the classifier's own
      loss on the new task (stage 1);
    * ``'combined'``: ``(1 + a_s) f_s + a_t f_t`` per unit, the source
      branches frozen with eval-mode batch norm, trained with (stage 3)
      ``KL(Y_t || head_t) + sum_{j<t} KL(Y_j || head_j) + lambda ||[a_s;
      a_t]||_1``, where ``Y`` are the soft targets (temperature ``T``,
      ``T^2`` scaling).

    Every mode adds the weight decay ``lambda_dec / 2 ||theta||^2`` of the
    network it trains (``weight_decay``; the coefficients have none), so
    the optimiser's own ``weight_decay`` should be 0. Do not set an
    ``optim_wrapper.paramwise_cfg``: mmengine's constructor then leaves
    out the parameters that are frozen when it builds the optimiser, and
    the coefficients would never train (``ResCLHook`` refuses it).

    :meth:`merge` folds the combination exactly into the source branches
    (:mod:`.merge`); the merged network then is the source of the next
    task, whose source distillation covers all earlier heads.
    :class:`~mmdl.engine.hooks.ResCLHook` drives the stages inside a
    :class:`~mmdl.engine.loops.TaskSequenceTrainLoop`; the head must have
    one classifier per task (``MultiTaskLinearClsHead``).

    The parameter set and the state-dict keys never change (the wrapper is
    built with all branches), so any checkpoint of a run resumes into the
    config's model; :meth:`plain_state_dict` gives the unwrapped
    classifier's state dict.

    Reconstructions (the paper's details were not available): the soft
    targets' timing (``soft_targets``), the target branch's batch-norm mode
    while the combination trains (``target_norm``), training the target
    weights in stage 3 (``train_target``), the initialisation
    (``alpha_init``) and summing the source distillation over all earlier
    heads for more than two tasks.

    Args:
        classifier (dict | nn.Module): The classifier (e.g.
            ``mmdl.ContinualImageClassifier`` with a
            ``mmdl.MultiTaskLinearClsHead``) or its config.
        input_shape (Sequence[int]): Shape of one preprocessed input, e.g.
            ``(3, 32, 32)``; one forward pass on zeros finds the units.
        l1_weight (float): ``lambda`` of the L1 decay on the coefficients,
            the source/target trade-off. Defaults to 1e-4.
        weight_decay (float): ``lambda_dec``. Defaults to 1e-6.
        l1_mode (str): How the L1 decay acts: ``'subgradient'`` (a loss
            term, as the paper's objective is written) or ``'proximal'``
            (soft-thresholding ``a <- sign(a) max(|a| - lr lambda, 0)``
            after every optimiser step, the L1 term only logged; exact
            proximal SGD, with adaptive optimisers a heuristic). Plain
            (sub)gradient steps make the coefficients oscillate around 0
            by about ``lr * lambda`` instead of reaching it, so channels
            return exactly to the source only with ``'proximal'``.
            Defaults to ``'subgradient'``.
        temperature (float): Distillation temperature. Defaults to 2.
        soft_targets (str): ``'recorded'`` (the hook records the source
            heads' and the fine-tuned head's logits on the task's training
            inputs once, when the combination starts; stored by sample
            index) or ``'online'`` (computed for every batch from the
            frozen source network and a frozen copy of the fine-tuned
            network). Defaults to ``'recorded'``.
        target_norm (str): ``'train'`` (batch statistics) or ``'eval'``
            for the target branches' batch norms while the combination
            trains. Defaults to ``'train'``.
        finetune_distill_weight (float): Stage 1 adds this weight times
            the distillation of the source heads ``j < t`` (the source
            network's logits, computed for every batch) on the target
            network: LwF-style fine-tuning. 0 (default) is plain
            fine-tuning, as in the transcription of the paper's algorithm.
        train_target (bool): Train the target weights with the
            coefficients in stage 3 (False: coefficients and the new head
            only). Defaults to True.
        alpha_init (tuple[float, float]): Initial ``(a_s, a_t)``. Defaults
            to ``(-0.5, 0.5)``.
        source_checkpoint (str, optional): A checkpoint of the unwrapped
            classifier (e.g. an ImageNet-pretrained ResNet-50), loaded into
            the source network by :meth:`init_weights`; keys it lacks keep
            their initialisation and are logged (``load_from`` would not
            fit: the wrapper's keys differ). Defaults to None.
        data_preprocessor (dict, optional): The classifier's data
            preprocessor when its config has none (mmengine's runner passes
            the config's top-level ``data_preprocessor`` here).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 classifier: Union[dict, nn.Module],
                 input_shape: Sequence[int],
                 l1_weight: float = 1e-4,
                 weight_decay: float = 1e-6,
                 l1_mode: str = 'subgradient',
                 temperature: float = 2.0,
                 soft_targets: str = 'recorded',
                 target_norm: str = 'train',
                 finetune_distill_weight: float = 0.0,
                 train_target: bool = True,
                 alpha_init: Tuple[float, float] = (-0.5, 0.5),
                 source_checkpoint: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        _, network = build_classifier(classifier, data_preprocessor)
        super().__init__(
            data_preprocessor=network.data_preprocessor, init_cfg=init_cfg)
        if soft_targets not in ('recorded', 'online'):
            raise ValueError("soft_targets must be 'recorded' or 'online', "
                             f'got {soft_targets!r}')
        if l1_mode not in ('subgradient', 'proximal'):
            raise ValueError("l1_mode must be 'subgradient' or 'proximal', "
                             f'got {l1_mode!r}')
        if target_norm not in ('train', 'eval'):
            raise ValueError("target_norm must be 'train' or 'eval', got "
                             f'{target_norm!r}')
        if l1_weight < 0 or weight_decay < 0:
            raise ValueError('l1_weight and weight_decay must be >= 0, got '
                             f'{l1_weight} and {weight_decay}')
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        head = getattr(network, 'head', None)
        if not hasattr(head, 'task_logits'):
            raise TypeError(
                'ResCLWrapper needs a multi-head classifier: a head with '
                'task_logits() and task_classifier() (e.g. '
                f'mmdl.MultiTaskLinearClsHead), got {type(head).__name__}')
        self.l1_weight = float(l1_weight)
        self.weight_decay = float(weight_decay)
        self.l1_mode = l1_mode
        self.temperature = float(temperature)
        self.soft_targets = soft_targets
        self.target_norm = target_norm
        self.train_target = bool(train_target)
        self.finetune_distill_weight = float(finetune_distill_weight)
        self.alpha_init = tuple(float(a) for a in alpha_init)
        self.source_checkpoint = source_checkpoint
        if soft_targets == 'online':
            self.finetuned = copy.deepcopy(network)
            self.finetuned.requires_grad_(False)
        self.classifier = network
        self._specs, self._units = combine_classifier(
            network, tuple(input_shape), self.alpha_init, COMBINED_PARTS)
        self.register_buffer('mode_index', torch.tensor(0))
        self.register_load_state_dict_post_hook(
            lambda module, keys: module._apply_mode())
        self._soft: Optional[Dict[int, Tensor]] = None
        self._apply_mode()

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """str: ``'source'``, ``'target'`` or ``'combined'``."""
        return MODES[int(self.mode_index)]

    @property
    def units(self) -> List[ResidualCombination]:
        """list[ResidualCombination]: The units, in network order."""
        return list(self._units)

    @property
    def unit_specs(self) -> List[Tuple[str, UnitSpec]]:
        """list[tuple[str, UnitSpec]]: ``(part, spec)`` of every unit, with
        the original module names."""
        return list(self._specs)

    @property
    def current_task(self) -> int:
        """int: The task being trained (the new head)."""
        return int(getattr(self.classifier, 'current_task',
                           self.classifier.head.default_task))

    @current_task.setter
    def current_task(self, task: int) -> None:
        if hasattr(self.classifier, 'current_task'):
            self.classifier.current_task = task
        else:
            self.classifier.head.default_task = int(task)
        self._apply_mode()  # the current head trains

    def set_mode(self, mode: str) -> None:
        """Switch every unit to ``mode`` and set which parameters train:
        ``'source'``: the source branches and heads; ``'target'``: the
        target branches and the current head; ``'combined'``: the
        coefficients, the current head and (``train_target``) the target
        branches. The other parameters are frozen."""
        self.mode_index.fill_(MODES.index(mode))
        self._apply_mode()

    def _apply_mode(self) -> None:
        mode = self.mode
        self.classifier.requires_grad_(mode == 'source')
        for unit in self._units:
            unit.mode = mode
            unit.source_frozen = mode != 'source'
            unit.target_norm_eval = (
                mode == 'combined' and self.target_norm == 'eval')
            unit.target.requires_grad_(
                mode == 'target' or (mode == 'combined' and self.train_target))
            unit.alpha_source.requires_grad_(mode == 'combined')
            unit.alpha_target.requires_grad_(mode == 'combined')
        if mode != 'source':
            self.classifier.head.task_classifier(
                self.current_task).requires_grad_(True)
        self.train(self.training)

    # ------------------------------------------------------------------
    # the stages (called by ResCLHook)
    # ------------------------------------------------------------------
    def begin_task(self, task: int) -> None:
        """Stage 1 of task ``task`` >= 1: the target branches become a copy
        of the source network and are trained in ``'target'`` mode."""
        self._check_task(task)
        for unit in self._units:
            unit.target.load_state_dict(unit.source.state_dict())
        self.current_task = task
        self._soft = None
        self.set_mode('target')

    def begin_combination(
            self, soft_targets: Optional[Dict[int, Tensor]] = None) -> None:
        """Stage 3: reset the coefficients to ``alpha_init`` and train the
        combination.

        Args:
            soft_targets (dict[int, Tensor], optional): Per task ``j <=
                current_task``, logits ``(num_samples, C_j)`` indexed by
                ``sample_idx`` (:meth:`record_soft_targets`); required
                with ``soft_targets='recorded'``.
        """
        for unit in self._units:
            unit.reset_alpha(self.alpha_init)
        if self.soft_targets == 'online':
            self.finetuned.load_state_dict(self.plain_state_dict('target'))
        self.set_mode('combined')
        self.set_soft_targets(soft_targets)

    def set_soft_targets(self,
                         soft_targets: Optional[Dict[int, Tensor]]) -> None:
        """Hand over recorded soft targets (also after a resume): per task
        ``j <= current_task``, logits ``(num_samples, C_j)`` by
        ``sample_idx``."""
        self._soft = soft_targets

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the combination into the source branches (exact in eval
        mode) and return to ``'source'`` mode."""
        for unit in self._units:
            write_merged(unit.source, merged_parameters(unit))
            unit.reset_alpha((0.0, 0.0))
        self._soft = None
        self.set_mode('source')

    @torch.no_grad()
    def record_soft_targets(self, batches: Iterable,
                            num_samples: int) -> Dict[int, Tensor]:
        """The soft targets of the current task's training inputs: the
        source network's heads ``j < t`` and the fine-tuned (target)
        network's head ``t``, eval mode, by ``sample_idx``.

        Args:
            batches (Iterable): Batches of the task's training data (every
                sample once; the order does not matter).
            num_samples (int): Samples of the dataset.

        Returns:
            dict[int, Tensor]: Task to ``(num_samples, C_j)`` logits.
        """
        task = self.current_task
        table: Dict[int, Tensor] = {}
        seen = torch.zeros(num_samples, dtype=torch.bool)
        training = self.training
        self.eval()
        try:
            for batch in batches:
                data = self.data_preprocessor(batch, False)
                index = self._sample_index(data['data_samples'])
                for j, logits in self._teachers(data['inputs'], task).items():
                    if j not in table:
                        table[j] = logits.new_zeros(
                            (num_samples, logits.shape[1]))
                    table[j][index] = logits
                seen[index.cpu()] = True
        finally:
            self.train(training)
        if not bool(seen.all()):
            raise ValueError(f'soft targets: {int((~seen).sum())} of '
                             f'{num_samples} samples were not seen')
        return table

    @torch.no_grad()
    def reparameterise_source_norms(self, batches: Iterable) -> int:
        """Give every source batch norm the statistics of its input on
        ``batches`` (the new task's data), keeping the eval-mode function
        (:func:`~mmdl.continual.bn_merge.reparameterise_bn`), so that the
        target copy's train-mode batch norms start close to the merged
        network. Returns the number of batch norms."""
        norms = {
            f'{part}.{spec.name}': unit.source.norm
            for (part, spec), unit in zip(self._specs, self._units)
            if unit.source.norm is not None
        }
        training = self.training
        self._set_unit_modes('source')
        self.eval()
        try:
            moments = bn_input_moments(
                self, norms, batches, lambda model, batch: model._features(
                    model.data_preprocessor(batch, False)['inputs']))
        finally:
            self._set_unit_modes(self.mode)
            self.train(training)
        for name, (sums, count) in moments.items():
            reparameterise_bn(norms[name], *moments_to_mean_var(sums, count))
        return len(moments)

    def plain_state_dict(self, mode: str = 'source') -> Dict[str, Tensor]:
        """The state dict of the unwrapped classifier: the source or target
        network, or the exact merge of the combination (``'combined'``)."""
        return classifier_plain_state_dict(self.classifier.state_dict(),
                                           self._specs, self._units, mode)

    def wrapped_state_dict(self, plain: Dict[str, Tensor],
                           branch: str = 'source') -> Dict[str, Tensor]:
        """The inverse of :meth:`plain_state_dict`: a state dict of the
        unwrapped classifier with its units' keys moved to ``branch``'s
        (``classifier.`` prefixed; other keys kept)."""
        return {
            'classifier.' + k: v
            for k, v in wrapped_state_dict(plain, self._specs, branch).items()
        }

    def init_weights(self) -> None:
        """Initialise, then load :attr:`source_checkpoint` into the source
        network (and the target copy)."""
        super().init_weights()
        if self.source_checkpoint is None:
            return
        from mmengine.logging import print_log

        from mmdl.engine.runner.checkpoint import load_checkpoint_file
        checkpoint = load_checkpoint_file(self.source_checkpoint)
        plain = checkpoint.get('state_dict', checkpoint)
        plain = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in plain.items()}
        state = self.wrapped_state_dict(plain, 'source')
        state.update(
            (k, v) for k, v in self.wrapped_state_dict(plain, 'target').items()
            if '.target.' in k)
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if '.alpha_' not in k and
                   k != 'mode_index' and not k.startswith('finetuned.')]
        print_log(
            f'ResCLWrapper: source network loaded from '
            f'{self.source_checkpoint}; {len(missing)} key(s) not in it'
            + (f' (e.g. {missing[0]})' if missing else '') +
            f', {len(unexpected)} unused', logger='current')

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """``'loss'``: :meth:`loss`; ``'predict'`` and ``'tensor'``: the
        classifier's, through the units' current mode."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        return self.classifier(inputs, data_samples, mode=mode)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """mmengine's default step. It is overridden so that distributed
        runs use ``DelegatingDistributedDataParallel``, which averages the
        gradients of whichever parameters train in the current stage (DDP's
        reducer fixes that set when it wraps the model)."""
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        parsed, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        if self.mode == 'combined' and self.l1_mode == 'proximal':
            self._soft_threshold(optim_wrapper)
        return log_vars

    @torch.no_grad()
    def _soft_threshold(self, optim_wrapper: OptimWrapper) -> None:
        """The proximal step of ``lambda ||a||_1`` with each coefficient's
        learning rate."""
        lrs = {
            id(p): group['lr']
            for group in optim_wrapper.optimizer.param_groups
            for p in group['params']
        }
        for unit in self._units:
            for alpha in (unit.alpha_source, unit.alpha_target):
                threshold = lrs[id(alpha)] * self.l1_weight
                alpha.copy_(alpha.sign() *
                            (alpha.abs() - threshold).clamp(min=0))

    def loss(self, inputs: Tensor,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """The classifier's loss in ``'source'``/``'target'`` mode; the
        distillation terms and the L1 decay in ``'combined'`` mode."""
        if self.mode != 'combined':
            losses = self.classifier.loss(inputs, data_samples)
            if self.mode == 'target' and self.finetune_distill_weight > 0:
                losses['loss_distill_finetune'] = (
                    self.finetune_distill_weight *
                    self._finetune_distillation(inputs))
            return self._add_weight_decay(losses)
        task = self.current_task
        teachers = self._soft_batch(inputs, data_samples, task)
        feats = self._features(inputs)
        head = self.classifier.head
        losses = dict(
            loss_distill_target=soft_target_kl(
                head.task_logits(feats, task), teachers[task],
                self.temperature))
        if task > 0:
            losses['loss_distill_source'] = sum(
                soft_target_kl(
                    head.task_logits(feats, j), teachers[j], self.temperature)
                for j in range(task))
        l1 = sum(u.alpha_source.abs().sum() + u.alpha_target.abs().sum()
                 for u in self._units)
        l1 = self.l1_weight * l1
        if self.l1_mode == 'subgradient':
            losses['loss_alpha_l1'] = l1
        else:  # applied after the step (train_step), only logged here
            losses['alpha_l1'] = l1.detach()
        return self._add_weight_decay(losses)

    def trained_network_parameters(self) -> List[nn.Parameter]:
        """The weights the weight decay applies to: the trained branch of
        every unit (source in ``'source'`` mode, target otherwise) and the
        current task's classifier."""
        branch = 'source' if self.mode == 'source' else 'target'
        params = [
            p for unit in self._units
            for p in getattr(unit, branch).parameters()
        ]
        head = self.classifier.head.task_classifier(self.current_task)
        return [p for p in params + list(head.parameters()) if p.requires_grad]

    def _add_weight_decay(self,
                          losses: Dict[str, Tensor]) -> Dict[str, Tensor]:
        if self.weight_decay > 0:
            params = self.trained_network_parameters()
            if params:
                losses['loss_weight_decay'] = 0.5 * self.weight_decay * sum(
                    p.pow(2).sum() for p in params)
        return losses

    def _finetune_distillation(self, inputs: Tensor) -> Tensor:
        """Distillation of the source heads on the target network."""
        task = self.current_task
        with torch.no_grad():
            teachers = self._online_teachers(inputs, task)
        feats = self._features(inputs)
        head = self.classifier.head
        return sum(
            soft_target_kl(head.task_logits(feats, j), teachers[j],
                           self.temperature) for j in range(task))

    def _features(self, inputs: Tensor) -> tuple:
        return self.classifier.extract_feat(inputs)

    def _source_logits(self, inputs: Tensor,
                       task: int) -> Dict[int, Tensor]:
        """Logits of the source heads ``j < task`` through the source
        branches (the units' modes are restored)."""
        head = self.classifier.head
        try:
            self._set_unit_modes('source')
            feats = self._features(inputs)
            return {j: head.task_logits(feats, j) for j in range(task)}
        finally:
            self._set_unit_modes(self.mode)

    def _teachers(self, inputs: Tensor, task: int) -> Dict[int, Tensor]:
        """:meth:`_source_logits` and the fine-tuned head ``task`` (target
        branches)."""
        out = self._source_logits(inputs, task)
        try:
            self._set_unit_modes('target')
            out[task] = self.classifier.head.task_logits(
                self._features(inputs), task)
        finally:
            self._set_unit_modes(self.mode)
        return out

    def _soft_batch(self, inputs: Tensor, data_samples: List[DataSample],
                    task: int) -> Dict[int, Tensor]:
        if self.soft_targets == 'online':
            return self._online_teachers(inputs, task)
        if self._soft is None:
            raise RuntimeError(
                'ResCLWrapper: no soft targets for the combination stage; '
                'ResCLHook records them when the combination starts')
        missing = [j for j in range(task + 1) if j not in self._soft]
        if missing:
            raise RuntimeError(f'ResCLWrapper: no recorded soft targets of '
                               f'tasks {missing}')
        index = self._sample_index(data_samples)
        return {j: self._soft[j][index].to(inputs.device)
                for j in range(task + 1)}

    @torch.no_grad()
    def _online_teachers(self, inputs: Tensor,
                         task: int) -> Dict[int, Tensor]:
        training = self.training
        self.eval()
        try:
            out = self._source_logits(inputs, task)
            if self.soft_targets == 'online' and self.mode == 'combined':
                out[task] = self.finetuned.head.task_logits(
                    self.finetuned.extract_feat(inputs), task)
        finally:
            self.train(training)
        return out

    def _set_unit_modes(self, mode: str) -> None:
        for unit in self._units:
            unit.mode = mode

    @staticmethod
    def _sample_index(data_samples: Optional[List[DataSample]]) -> Tensor:
        if not data_samples or 'sample_idx' not in data_samples[0]:
            raise ValueError(
                "recorded soft targets need each sample's 'sample_idx' "
                "(kept by mmpretrain.PackInputs' default meta_keys)")
        return torch.as_tensor([int(s.sample_idx) for s in data_samples])

    def _check_task(self, task: int) -> None:
        heads = self.classifier.head.num_tasks
        if not 1 <= task < heads:
            raise ValueError(f'ResCL task {task}: the head has {heads} task '
                             'classifiers (tasks 0 .. '
                             f'{heads - 1}; task 0 trains the source)')

    def train(self, mode: bool = True) -> 'ResCLWrapper':
        super().train(mode)
        if self.soft_targets == 'online':
            self.finetuned.eval()
        return self
