# Copyright (c) mmdl contributors. All rights reserved.
"""DTLClassifier: disposable transfer learning (Koh, Shon, Lee, Hong and
Kim, ICCV 2023)."""
import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmdl.models.losses.base_disposal_loss import NORM_MODES
from mmdl.registry import MODELS
from ..builder import build_classifier
from .feature_extractor import FeatureExtractor, SourceNetwork

SOURCE_HEAD_INITS = ('pretrained', 'random')
#: What :meth:`DTLClassifier.feature_extractor` can return.
EXTRACTOR_WEIGHTS = ('current', 'pretrained', 'random')


def _strip_module(state: Dict[str, Tensor]) -> Dict[str, Tensor]:
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state.items()
    }


@MODELS.register_module()
class DTLClassifier(BaseModel):
    """Transfer a pre-trained classifier to a target task while disposing
    of its source task.

    Every training step takes a target batch and a source batch (the
    ``source_key`` entry of the data batch, added by
    :class:`~mmdl.engine.loops.PairedEpochBasedTrainLoop`). The loss is

    ``CE(h_t(f(x_t)), y_t) + lambda(t) * L_disposal(h_s o f; B_1 ... B_K)``

    where the source batch is split into ``num_source_batches`` (K)
    mini-batches, ``h_s`` is the source head, ``L_disposal`` is the
    configured disposal loss (:class:`~mmdl.models.GCLoss` for DTL;
    :class:`~mmdl.models.NegGradLoss` and
    :class:`~mmdl.models.RandomLabelLoss` as baselines; None for plain
    fine-tuning) and ``lambda(t)`` rises linearly from
    ``disposal_weight / warmup_iters`` to ``disposal_weight`` over the first
    ``warmup_iters`` steps. The source passes use batch norm in
    ``source_bn`` mode and never change its running statistics.

    Predictions (``tools/test.py``, validation) are the target task's.
    For :class:`~mmdl.engine.loops.PiggybackTestLoop` the model offers
    :meth:`source_logits` and :meth:`feature_extractor` (the scrubbed,
    pre-trained or randomly initialised feature extractor).

    Reconstructions (the paper's training details are not known): the loss
    combination, the warm-up, K, splitting one source batch into the K
    mini-batches, the frozen pre-trained source head (``train_source_head``,
    ``source_head_init``) and the batch-norm mode of the source passes.

    Args:
        classifier (dict | nn.Module): The target classifier (an mmpretrain
            ``ImageClassifier``: backbone, neck, target head) or its config.
        source_head (dict | nn.Module): The source task's head (e.g.
            ``mmpretrain.LinearClsHead``) or its config.
        disposal_loss (dict | nn.Module, optional): The disposal loss.
            None trains plain fine-tuning. Defaults to ``GCLoss``.
        disposal_weight (float): ``lambda``. Defaults to 1.
        warmup_iters (int): Linear ramp-up of ``lambda`` over this many
            steps; 0 for none. Defaults to 0.
        num_source_batches (int): K. Defaults to 2.
        train_source_head (bool): Train the source head with the disposal
            loss (False: frozen). Defaults to False.
        source_head_init (str): ``'pretrained'`` (the source checkpoint's
            head) or ``'random'`` (a fresh probe head, closer to what a
            piggyback learner starts from). Defaults to ``'pretrained'``.
        source_bn (str): ``'train'`` (batch statistics of each source
            mini-batch) or ``'frozen'`` (running statistics) in the source
            passes. Defaults to ``'train'``.
        source_key (str): The data-batch key of the source batch. Defaults
            to ``'source'``.
        source_checkpoint (str, optional): Checkpoint of the pre-trained
            source classifier (``backbone.*``, ``neck.*``, ``head.*``, as
            the pre-training configs save it), loaded by
            :meth:`init_weights` and used as the ``'pretrained'`` feature
            extractor. Defaults to None.
        data_preprocessor (dict, optional): The classifier's data
            preprocessor when its config has none (mmengine's runner passes
            the config's top-level ``data_preprocessor`` here).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 classifier: Union[dict, nn.Module],
                 source_head: Union[dict, nn.Module],
                 disposal_loss: Union[dict, nn.Module, None] = dict(
                     type='GCLoss'),
                 disposal_weight: float = 1.0,
                 warmup_iters: int = 0,
                 num_source_batches: int = 2,
                 train_source_head: bool = False,
                 source_head_init: str = 'pretrained',
                 source_bn: str = 'train',
                 source_key: str = 'source',
                 source_checkpoint: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        self._classifier_cfg, classifier = build_classifier(
            classifier, data_preprocessor)
        super().__init__(
            data_preprocessor=classifier.data_preprocessor, init_cfg=init_cfg)
        if source_bn not in NORM_MODES:
            raise ValueError(f'DTLClassifier: source_bn must be one of '
                             f'{NORM_MODES}, got {source_bn!r}')
        if source_head_init not in SOURCE_HEAD_INITS:
            raise ValueError(f'DTLClassifier: source_head_init must be one '
                             f'of {SOURCE_HEAD_INITS}, got '
                             f'{source_head_init!r}')
        if num_source_batches < 1 or warmup_iters < 0 or disposal_weight < 0:
            raise ValueError(
                'DTLClassifier: num_source_batches must be >= 1 and '
                'warmup_iters, disposal_weight >= 0, got '
                f'{num_source_batches}, {warmup_iters}, {disposal_weight}')
        if not hasattr(classifier, 'backbone') or not hasattr(
                classifier, 'head'):
            raise TypeError('DTLClassifier: classifier must be an '
                            'mmpretrain ImageClassifier (backbone, neck, '
                            f'head), got {type(classifier).__name__}')
        self.classifier = classifier
        self.source_head = (
            MODELS.build(source_head)
            if isinstance(source_head, dict) else source_head)
        self.source_head.requires_grad_(bool(train_source_head))
        if isinstance(disposal_loss, dict):
            disposal_loss = MODELS.build(disposal_loss)
        self.disposal_loss = disposal_loss
        self.disposal_weight = float(disposal_weight)
        self.warmup_iters = int(warmup_iters)
        self.num_source_batches = int(num_source_batches)
        self.train_source_head = bool(train_source_head)
        self.source_head_init = source_head_init
        self.source_bn = source_bn
        self.source_key = source_key
        self.source_checkpoint = source_checkpoint
        #: Training steps taken (drives the warm-up; kept in checkpoints).
        self.register_buffer('iter_count', torch.tensor(0, dtype=torch.long))
        self._source_cache: Optional[Tuple[str, Dict[str, Tensor]]] = None

    # ------------------------------------------------------------------
    # weights
    # ------------------------------------------------------------------
    def init_weights(self) -> None:
        """Initialise, then load :attr:`source_checkpoint`: its backbone and
        neck into the classifier, its head into the source head (with
        ``source_head_init='pretrained'``)."""
        super().init_weights()
        if self.source_checkpoint is None:
            return
        from mmengine.logging import print_log
        state = self._source_state()
        unexpected = self._load_extractor(self.classifier, state)
        loaded_head = 'not loaded (source_head_init=random)'
        if self.source_head_init == 'pretrained':
            head = {
                k[len('head.'):]: v
                for k, v in state.items() if k.startswith('head.')
            }
            self.source_head.load_state_dict(head)
            loaded_head = f'{len(head)} tensors'
        print_log(
            f'DTLClassifier: feature extractor loaded from '
            f'{self.source_checkpoint} ({len(unexpected)} key(s) unused); '
            f'source head: {loaded_head}',
            logger='current')

    def _source_state(self) -> Dict[str, Tensor]:
        """The source checkpoint's state dict, read once (the piggyback
        test asks for the pre-trained extractor once per job)."""
        from mmdl.engine.runner.checkpoint import load_checkpoint_file
        if self.source_checkpoint is None:
            raise ValueError('DTLClassifier: the pre-trained weights need '
                             'source_checkpoint (the pre-training run\'s '
                             'checkpoint)')
        cached = self._source_cache
        if cached is None or cached[0] != self.source_checkpoint:
            checkpoint = load_checkpoint_file(
                self.source_checkpoint, map_location='cpu')
            state = _strip_module(checkpoint.get('state_dict', checkpoint))
            self._source_cache = cached = (self.source_checkpoint, state)
        return cached[1]

    @staticmethod
    def _load_extractor(classifier: nn.Module,
                        state: Dict[str, Tensor]) -> List[str]:
        """Load the ``backbone.*`` and ``neck.*`` entries of ``state``;
        return the keys the classifier does not have.

        Raises:
            KeyError: ``state`` has no backbone, or lacks some of the
                classifier's feature-extractor keys.
        """
        part = {
            k: v
            for k, v in state.items()
            if k.startswith('backbone.') or k.startswith('neck.')
        }
        if not part:
            raise KeyError('DTLClassifier: the source checkpoint has no '
                           'backbone.* entries; expected the state dict of '
                           'an mmpretrain ImageClassifier')
        missing, unexpected = classifier.load_state_dict(part, strict=False)
        missing = [
            k for k in missing
            if k.startswith('backbone.') or k.startswith('neck.')
        ]
        if missing:
            raise KeyError(f'DTLClassifier: the source checkpoint lacks '
                           f'{len(missing)} feature-extractor key(s), e.g. '
                           f'{missing[0]!r}')
        return unexpected

    # ------------------------------------------------------------------
    # accessors
    # ------------------------------------------------------------------
    def source_network(self) -> SourceNetwork:
        """The backbone and neck with the source head (shared modules)."""
        return SourceNetwork(self.classifier.backbone,
                             getattr(self.classifier, 'neck', None),
                             self.source_head)

    def extract_feat(self, inputs: Tensor) -> tuple:
        """The classifier's features of preprocessed inputs."""
        return self.classifier.extract_feat(inputs)

    def source_logits(self, inputs: Tensor) -> Tensor:
        """Logits of the source head on the current features."""
        return self.source_network()(inputs)

    def feature_extractor(self,
                          weights: str = 'current',
                          seed: int = 0) -> FeatureExtractor:
        """A copy of the feature extractor (inputs to ``(N, C)``), for
        retraining on another task.

        Args:
            weights (str): ``'current'`` (the scrubbed weights),
                ``'pretrained'`` (the source checkpoint) or ``'random'``
                (a fresh initialisation of the same architecture).
            seed (int): Seed of the random initialisation. Defaults to 0.

        Returns:
            FeatureExtractor: The copy, on the model's device.
        """
        if weights not in EXTRACTOR_WEIGHTS:
            raise ValueError(f'DTLClassifier.feature_extractor: weights must '
                             f'be one of {EXTRACTOR_WEIGHTS}, got {weights!r}')
        device = next(self.parameters()).device
        if weights == 'current':
            classifier = copy.deepcopy(self.classifier)
        else:
            classifier = self._fresh_classifier(seed)
            if weights == 'pretrained':
                self._load_extractor(classifier, self._source_state())
        extractor = FeatureExtractor(classifier.backbone,
                                     getattr(classifier, 'neck', None))
        return extractor.to(device).requires_grad_(True)

    def _fresh_classifier(self, seed: int) -> nn.Module:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            if self._classifier_cfg is not None:
                classifier = MODELS.build(copy.deepcopy(self._classifier_cfg))
                classifier.init_weights()
            else:
                classifier = copy.deepcopy(self.classifier)
                for module in classifier.modules():
                    if hasattr(module, 'reset_parameters'):
                        module.reset_parameters()
        return classifier

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def current_disposal_weight(self) -> float:
        """``lambda`` of the next step (after the warm-up:
        ``disposal_weight``)."""
        if self.warmup_iters <= 0:
            return self.disposal_weight
        ramp = min(1.0, (int(self.iter_count) + 1) / self.warmup_iters)
        return self.disposal_weight * ramp

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        """The target classifier's ``'tensor'``, ``'predict'`` and
        ``'loss'`` (target cross-entropy only) modes."""
        return self.classifier(inputs, data_samples, mode=mode)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """One step: target loss plus the weighted disposal loss on the
        source batch ``data[source_key]``.

        Args:
            data (dict): The target batch with the source batch under
                ``source_key``.
            optim_wrapper (OptimWrapper): The optimiser wrapper.

        Returns:
            dict[str, Tensor]: Log variables.
        """
        if not isinstance(data, dict):
            raise TypeError('DTLClassifier.train_step: expected a dict batch '
                            f'(inputs, data_samples, {self.source_key!r}), '
                            f'got {type(data).__name__}')
        data = dict(data)
        source = data.pop(self.source_key, None)
        if self.disposal_loss is not None and source is None:
            raise KeyError(
                f'DTLClassifier: the data batch has no {self.source_key!r} '
                'entry; train with train_cfg=dict(type='
                "'PairedEpochBasedTrainLoop', paired_dataloaders=dict("
                f'{self.source_key}=...))')
        weight = self.current_disposal_weight()
        with optim_wrapper.optim_context(self):
            target = self.data_preprocessor(data, True)
            losses = self.classifier.loss(target['inputs'],
                                          target['data_samples'])
            losses = {'loss_target': losses.pop('loss'), **losses}
            if self.disposal_loss is not None:
                losses.update(self._disposal(source, weight))
        parsed, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        self.iter_count += 1
        if self.disposal_loss is not None:
            log_vars['disposal_weight'] = weight
        return log_vars

    def _disposal(self, source: dict, weight: float) -> Dict[str, Tensor]:
        batch = self.data_preprocessor(source, True)
        inputs = batch['inputs']
        labels = torch.cat([s.gt_label for s in batch['data_samples']
                            ]).to(inputs.device)
        if len(inputs) < self.num_source_batches:
            raise ValueError(
                f'DTLClassifier: a source batch of {len(inputs)} sample(s) '
                f'cannot be split into num_source_batches='
                f'{self.num_source_batches} mini-batches')
        terms = self.disposal_loss(
            self.source_network(),
            torch.tensor_split(inputs, self.num_source_batches),
            torch.tensor_split(labels, self.num_source_batches),
            norm=self.source_bn)
        return {
            k: (weight * v if k.startswith('loss') else v.detach())
            for k, v in terms.items()
        }
