# Copyright (c) mmdl contributors. All rights reserved.
"""FaceRecognizer: a classifier trained with a margin head whose
predictions are face embeddings."""
from typing import List, Optional

from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor

from mmdl.models.heads.margin_head import ignore_sharded_centres_in_ddp
from mmdl.registry import MODELS


@MODELS.register_module()
class FaceRecognizer(ImageClassifier):
    """mmpretrain's ``ImageClassifier`` for face recognition: trained as a
    classifier over identities (a margin head such as
    :class:`~mmdl.models.CombinedMarginHead`), evaluated on embeddings.

    ``predict`` (validation, ``tools/test.py``) returns, per image, the
    embedding (the last output of the backbone, or of the neck) in the
    data sample's ``embedding`` field and its norm in ``embedding_norm``.
    With ``flip_test`` the embedding is the sum of those of the image and
    of its horizontal flip, un-normalised, and the norm is the mean of the
    two norms: insightface's fused embedding ("F2", "Accuracy-Flip") and
    its "XNorm". The metrics normalise as their protocol says
    (:class:`~mmdl.evaluation.BinVerificationMetric`,
    :class:`~mmdl.evaluation.IJBVerificationMetric`).

    Class centres sharded across ranks
    (:class:`~mmdl.models.CombinedMarginHead` under a distributed launch)
    are excluded from DDP's parameter broadcast and gradient averaging
    (:func:`~mmdl.models.heads.margin_head.ignore_sharded_centres_in_ddp`).

    Args:
        flip_test (bool): Fuse the embedding of the horizontal flip.
            Defaults to True.
        *args, **kwargs: Arguments of mmpretrain's ``ImageClassifier``.
    """

    def __init__(self, *args, flip_test: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flip_test = bool(flip_test)
        ignore_sharded_centres_in_ddp(self)

    def extract_embedding(self, inputs: Tensor) -> Tensor:
        """The embeddings of preprocessed images (``[N, D]``)."""
        feats = self.extract_feat(inputs)
        embedding = feats[-1] if isinstance(feats, (tuple, list)) else feats
        return embedding.flatten(1)

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                **kwargs) -> List[DataSample]:
        """Embeddings of ``inputs`` (see the class doc).

        Args:
            inputs (Tensor): ``[N, C, H, W]`` preprocessed images.
            data_samples (list[DataSample], optional): The samples to fill.

        Returns:
            list[DataSample]: With ``embedding`` and ``embedding_norm``.
        """
        embedding = self.extract_embedding(inputs)
        norm = embedding.norm(dim=1)
        if self.flip_test:
            flipped = self.extract_embedding(inputs.flip(-1))
            norm = (norm + flipped.norm(dim=1)) / 2
            embedding = embedding + flipped
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(inputs))]
        for sample, emb, value in zip(data_samples, embedding, norm):
            sample.set_field(emb.detach(), 'embedding')
            sample.set_field(value.detach(), 'embedding_norm')
        return data_samples
