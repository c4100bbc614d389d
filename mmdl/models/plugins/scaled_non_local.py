# Copyright (c) mmdl contributors. All rights reserved.
"""The Scaled Non-Local block.

Y. Cho, Y. Kim, H. Cho, J. Ahn, H. G. Hong, J. Kim. "Rethinking Efficacy of
Softmax for Lightweight Non-Local Neural Networks". ICIP 2022
(arXiv:2207.13423). Official code: YooshinCho/pytorch_RethinkingSFM.
"""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdl.registry import MODELS
from ..utils import sinusoid_position_encoding_2d

NORMALIZERS = ('scaled', 'mean', 'softmax')
SIMILARITIES = ('both', 'mag', 'angle')
ORDERS = ('auto', 'map', 'channel')


def non_local_aggregate(query: Tensor,
                        key: Tensor,
                        value: Tensor,
                        normalizer: str = 'scaled',
                        scale: float = 1.0,
                        order: str = 'auto') -> Tensor:
    """Non-local aggregation ``y_i = sum_j A_ij v_j`` for every head.

    With ``normalizer='softmax'`` the map is ``A = softmax_j(q_i . k_j)``.
    Otherwise ``A = scale * q_i . k_j`` is linear in the similarity, so the
    product is associative and two orders compute the same output:

    * ``'map'``: ``(Q^T K) V^T``, which materialises the N x N map; it costs
      ``N^2 (C_q + C_v)`` multiply-adds per head;
    * ``'channel'``: ``Q^T (K V^T)``, with a ``C_q x C_v`` matrix; it costs
      ``2 N C_q C_v`` and never stores an N x N map.

    ``'auto'`` picks the cheaper one for the given shapes.

    Args:
        query (Tensor): Shape (B, heads, C_q, N).
        key (Tensor): Shape (B, heads, C_q, N).
        value (Tensor): Shape (B, heads, C_v, N).
        normalizer (str): ``'softmax'``, or ``'scaled'``/``'mean'`` (linear
            maps; ``scale`` holds the factor). Defaults to ``'scaled'``.
        scale (float): Factor of the linear map. Defaults to 1.
        order (str): ``'auto'``, ``'map'`` or ``'channel'``.
            Defaults to ``'auto'``.

    Returns:
        Tensor: Shape (B, heads, C_v, N).
    """
    if order not in ORDERS:
        raise ValueError(f'order={order!r} is not one of {ORDERS}')
    if normalizer == 'softmax':
        if order == 'channel':
            raise ValueError("order='channel' needs a linear map; softmax "
                             "over keys only exists in order='map'")
        attention = torch.einsum('bhci,bhcj->bhij', query, key).softmax(-1)
        return torch.einsum('bhij,bhcj->bhci', attention, value)
    num, c_q, c_v = query.shape[-1], query.shape[-2], value.shape[-2]
    if order == 'auto':
        order = 'channel' if 2 * c_q * c_v <= num * (c_q + c_v) else 'map'
    if order == 'map':
        attention = torch.einsum('bhci,bhcj->bhij', query, key) * scale
        return torch.einsum('bhij,bhcj->bhci', attention, value)
    context = torch.einsum('bhvj,bhqj->bhvq', value, key) * scale
    return torch.einsum('bhvq,bhqi->bhvi', context, query)


@MODELS.register_module()
class ScaledNonLocal2d(BaseModule):
    """Scaled Non-Local block: a non-local block whose softmax is replaced
    by a fixed scaling factor 1/sqrt(HW).

    ``z = x' + BN(W_z concat_h(y_h))`` with ``x' = x + P`` (optional fixed
    sinusoidal positional encoding ``P``) and, per head ``h``,
    ``y_i = sum_j s * (theta_i . phi_j) g_j`` where ``theta, phi, g`` are
    1x1 convolutions of ``x'`` without bias and ``s = 1/sqrt(N)``, N = HW.

    Because the map is linear, the block can be computed in
    ``O(N C'^2)`` instead of ``O(N^2 C')`` (see
    :func:`non_local_aggregate`); with C' = C/h per head the cost *falls* as
    the number of heads grows, hence "multi-head attention at no additional
    cost". The output norm is zero-initialised, so the block starts as the
    identity on ``x'``. The block is also an mmcv plugin layer
    (``build_plugin_layer(dict(type='ScaledNonLocal2d'), in_channels=C)``).

    **Scaling definition.** mmdl defines the output as above, identical in
    both computation orders. The official code's reordered head (``'T'``)
    divides by an extra ``sqrt(C')``; ``channel_scale=True`` reproduces it
    (in both orders). With the output batch norm in training mode a
    constant factor on ``y`` is normalised away, so the two definitions
    train alike; they differ numerically.

    **Reconstructions** (choices made without the paper's full text):
    the positional-encoding channel layout (see
    :func:`~mmdl.models.utils.sinusoid_position_encoding_2d`), computing
    the table from the actual H, W at run time (the official code fixes the
    side length per stage), and ``normalizer='mean'`` (mmcv's 1/N
    ``dot_product`` normalisation), offered for comparison.

    Args:
        in_channels (int): Channels C of the input.
        num_heads (int): Number of heads h. Defaults to 1.
        embed_channels (int, optional): Embedding channels C' per head.
            Defaults to None: C/2 for one head, C/h for several (the official
            default); set it smaller for the channel-reduction study.
        normalizer (str): ``'scaled'`` (1/sqrt(N), the method),
            ``'softmax'`` (the embedded-Gaussian non-local baseline, without
            temperature, as in the official code) or ``'mean'`` (1/N).
            Defaults to ``'scaled'``.
        similarity (str): ``'both'`` (dot product), ``'mag'`` (product of
            the norms of theta_i and phi_j: magnitude only) or ``'angle'``
            (cosine: direction only), the paper's magnitude/direction
            ablation. Defaults to ``'both'``.
        order (str): Computation order, ``'auto'`` (cheaper per input shape),
            ``'map'`` (N x N map) or ``'channel'`` (C' x C'). Defaults to
            ``'auto'``. Softmax always uses ``'map'``.
        channel_scale (bool): Also divide by sqrt(C') as the official
            reordered head does. Defaults to False.
        pos_enc (bool): Add the fixed 2-D sinusoidal positional encoding at
            the block input (the residual carries it too). Defaults to True.
        init_std (float, optional): Std of the normal init of the embedding
            and output convolutions (official ``cinit``): 0.01 by default,
            0 gives zeros, None keeps Kaiming-normal (fan_out).
        norm_cfg (dict, optional): Output norm, zero-initialised. Defaults
            to ``dict(type='BN')``; None for no norm (then the output
            convolution is zero-initialised instead).
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    _abbr_ = 'scaled_nl'

    def __init__(self,
                 in_channels: int,
                 num_heads: int = 1,
                 embed_channels: Optional[int] = None,
                 normalizer: str = 'scaled',
                 similarity: str = 'both',
                 order: str = 'auto',
                 channel_scale: bool = False,
                 pos_enc: bool = True,
                 init_std: Optional[float] = 0.01,
                 norm_cfg: Optional[Dict] = dict(type='BN'),
                 init_cfg: Optional[Dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if normalizer not in NORMALIZERS:
            raise ValueError(f'ScaledNonLocal2d: normalizer={normalizer!r} '
                             f'is not one of {NORMALIZERS}')
        if similarity not in SIMILARITIES:
            raise ValueError(f'ScaledNonLocal2d: similarity={similarity!r} '
                             f'is not one of {SIMILARITIES}')
        if order not in ORDERS:
            raise ValueError(f'ScaledNonLocal2d: order={order!r} is not one '
                             f'of {ORDERS}')
        if normalizer == 'softmax' and order == 'channel':
            raise ValueError("ScaledNonLocal2d: normalizer='softmax' has no "
                             "'channel' order (softmax is not associative)")
        if num_heads < 1 or in_channels < 1:
            raise ValueError('ScaledNonLocal2d: in_channels and num_heads '
                             f'must be positive, got {in_channels}, '
                             f'{num_heads}')
        if embed_channels is None:
            if num_heads == 1:
                embed_channels = max(in_channels // 2, 1)
            elif in_channels % num_heads:
                raise ValueError(
                    f'ScaledNonLocal2d: in_channels={in_channels} is not '
                    f'divisible by num_heads={num_heads}; set '
                    'embed_channels explicitly')
            else:
                embed_channels = in_channels // num_heads
        self.in_channels = in_channels
        self.num_heads = num_heads
        self.embed_channels = embed_channels
        self.normalizer = normalizer
        self.similarity = similarity
        self.order = order
        self.channel_scale = channel_scale
        self.pos_enc = pos_enc
        self.init_std = init_std

        width = embed_channels * num_heads
        self.theta = nn.Conv2d(in_channels, width, 1, bias=False)
        self.phi = nn.Conv2d(in_channels, width, 1, bias=False)
        self.g = nn.Conv2d(in_channels, width, 1, bias=False)
        self.conv_out = nn.Conv2d(width, in_channels, 1, bias=False)
        if norm_cfg is None:
            self.norm = None
        else:
            self.norm = build_norm_layer(norm_cfg, in_channels)[1]
        self._pe_cache: Dict[Tuple, Tensor] = {}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Initialise as in the official code: embeddings N(0, init_std^2)
        (or zeros, or Kaiming), output norm gamma = beta = 0."""
        convs = [self.theta, self.phi, self.g, self.conv_out]
        for conv in convs:
            if self.init_std is None:
                nn.init.kaiming_normal_(
                    conv.weight, mode='fan_out', nonlinearity='relu')
            elif self.init_std == 0:
                nn.init.zeros_(conv.weight)
            else:
                nn.init.normal_(conv.weight, std=self.init_std)
        if self.norm is not None:
            nn.init.zeros_(self.norm.weight)
            nn.init.zeros_(self.norm.bias)
        else:
            nn.init.zeros_(self.conv_out.weight)

    def init_weights(self) -> None:
        """Keep the block's own initialisation under mmengine's
        ``init_weights`` unless an ``init_cfg`` is given."""
        if self.init_cfg:
            super().init_weights()
        else:
            self.reset_parameters()

    def position_encoding(self, x: Tensor) -> Tensor:
        """The positional encoding table for the shape of ``x``, cached."""
        key = (x.shape[1], x.shape[2], x.shape[3], x.device, x.dtype)
        if key not in self._pe_cache:
            self._pe_cache[key] = sinusoid_position_encoding_2d(
                x.shape[1],
                x.shape[2],
                x.shape[3],
                device=x.device,
                dtype=x.dtype)
        return self._pe_cache[key]

    def embed(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Query, key and value of each head, after the similarity switch.

        Args:
            x (Tensor): Input with the positional encoding added,
                (B, C, H, W).

        Returns:
            tuple[Tensor]: ``theta`` and ``phi`` (B, h, C_q, N) and ``g``
            (B, h, C', N); C_q is 1 for ``similarity='mag'``.
        """
        batch = x.shape[0]
        shape = (batch, self.num_heads, self.embed_channels, -1)
        theta = self.theta(x).reshape(shape)
        phi = self.phi(x).reshape(shape)
        g = self.g(x).reshape(shape)
        if self.similarity == 'mag':
            theta = theta.norm(dim=2, keepdim=True)
            phi = phi.norm(dim=2, keepdim=True)
        elif self.similarity == 'angle':
            theta = F.normalize(theta, dim=2)
            phi = F.normalize(phi, dim=2)
        return theta, phi, g

    def scale(self, num_positions: int) -> float:
        """Factor of the linear map for N positions."""
        scale = (1.0 / math.sqrt(num_positions)
                 if self.normalizer == 'scaled' else 1.0 / num_positions)
        if self.channel_scale:
            scale /= math.sqrt(self.embed_channels)
        return scale

    def attention_maps(self, x: Tensor, queries: Tensor) -> Tensor:
        """Attention weights of chosen query positions.

        Args:
            x (Tensor): Block input, (B, C, H, W).
            queries (Tensor): Flat query indices (``row * W + col``), (Q, ).

        Returns:
            Tensor: ``A[b, head, q, j]``, the weight of key ``j`` for query
            ``q``, shape (B, h, Q, H*W).
        """
        if self.pos_enc:
            x = x + self.position_encoding(x)
        theta, phi, _ = self.embed(x)
        logits = torch.einsum('bhcq,bhcj->bhqj', theta[..., queries], phi)
        if self.normalizer == 'softmax':
            return logits.softmax(-1)
        return logits * self.scale(x.shape[2] * x.shape[3])

    def forward(self, x: Tensor) -> Tensor:
        """Apply the block.

        Args:
            x (Tensor): (B, C, H, W).

        Returns:
            Tensor: (B, C, H, W).
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'ScaledNonLocal2d expects (B, {self.in_channels}, H, W), '
                f'got {tuple(x.shape)}')
        if self.pos_enc:
            x = x + self.position_encoding(x)
        batch, _, height, width = x.shape
        theta, phi, g = self.embed(x)
        y = non_local_aggregate(theta, phi, g, self.normalizer,
                                self.scale(height * width), self.order)
        out = self.conv_out(y.reshape(batch, -1, height, width))
        if self.norm is not None:
            out = self.norm(out)
        return x + out

    def extra_repr(self) -> str:
        return (f'heads={self.num_heads}, embed_channels='
                f'{self.embed_channels}, normalizer={self.normalizer}, '
                f'similarity={self.similarity}, order={self.order}, '
                f'pos_enc={self.pos_enc}')
