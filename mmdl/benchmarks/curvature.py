# Copyright (c) mmdl contributors. All rights reserved.
"""Speed of curvature collection and of the Kronecker penalties in
:mod:`mmdl.continual`, side by side with peer libraries, in one run.

Four measurements, each checked against a target in the ``summary``:

* ``collect_over_peer`` (target <= 1.0): mmdl ``collect_curvature(...,
  curvature='kfac')`` over the best peer on the same BN-free network, data
  and Fisher type. Peers (optional, ``pip install -r
  requirements/benchmark.txt``; a peer that does not import is skipped):

  - curvlinops ``KFACLinearOperator(model, CrossEntropyLoss(), params, data,
    fisher_type=..., kfac_approx='expand', separate_weight_and_bias=False,
    check_deterministic=False, num_data=..., num_per_example_loss_terms=1)``
    timed from construction through ``compute_kronecker_factors()`` (the
    factors are otherwise computed lazily at the first product; giving
    ``num_data`` and turning the determinism check off spares it two extra
    passes that are not part of the collection);
  - BackPACK's ``KFAC(mc_samples=1)`` extension: forward, ``backward()``
    inside ``with backpack(KFAC())`` and the sum of the weights' factors,
    for every batch, on an ``extend``-ed copy of the model (extending is
    setup, not timed). BackPACK has Monte-Carlo factors only.

  Networks (random data, ``batches`` batches of ``batch_size``): ``mlp``
  784-W-W-10 (W = ``width``, ReLU) on 1x28x28 inputs and ``cnn`` (3x3
  convolutions 3-C-2C-2C, the last two with stride 2, ReLU, a linear
  classifier; C = ``channels``) on 3x32x32 inputs. Fisher types: mmdl
  ``'true'`` (one label sampled per example) against curvlinops ``'mc'``
  (``mc_samples=1``) and BackPACK KFAC; mmdl ``'empirical'`` against
  curvlinops ``'empirical'``. mmdl and curvlinops draw their labels from a
  generator with the same seed and so get the *same* labels.
  Convolutions: mmdl and curvlinops use KFC "expand"; BackPACK's gradient
  factor sums the output gradients over locations before the outer product
  (a different approximation and less work), so BackPACK is reported on the
  CNN but left out of its ratio. The summary value is the *largest* ratio
  over the like-for-like (network, Fisher type) pairs; ``collect`` in the
  result has every pair.

* ``xkfac_over_kfac`` (target <= 1.1): mmdl XK-FAC over K-FAC collection on
  the same networks with a BatchNorm after every hidden layer, in train
  mode (``mlp_bn``, ``cnn_bn``); the largest of the two.

* ``penalty_over_matmul`` (target <= 1.3): the K-FAC penalty
  ``KFACRegularizer()(model)``, forward and ``backward()``, over the bare
  time of ``G @ dW @ A`` for all penalised layers with ``dW`` given (the
  least work there is). On the ``mlp`` with
  collected factors and, unless ``skip_resnet``, on the 54 Conv2d/Linear
  layers of ResNet-50 (random factors, see below); the summary value is the
  largest. The XK-FAC penalty is reported against the same product and
  against its own minimal work ``G dW (A - mu mu^T) + (G_sum dW mu) mu^T``
  with the centred factor given.

* ``penalty_step_overhead`` (reported, no target): one SGD step of
  torchvision ResNet-50 (``weights=None``, train mode, ``resnet_size``
  224, ``resnet_batch`` 32, cross-entropy) with and without the K-FAC
  penalty on all 54 Conv2d/Linear layers, as a fraction of the step
  without it. The factors are **random** PSD matrices of the right sizes
  (``A = V V^T / r + 0.1 I``, ``V`` of rank r = 8; timing does not depend
  on the values; collecting real ones would take long on a CPU): A up to
  4608 x 4608 for the 3x3 convolutions of the last stage (no bias), 2049 x
  2049 for the classifier.

Timing (:func:`mmdl.utils.benchmark.time_interleaved`): every variant runs
``warmup`` times untimed, then the variants of one comparison run in
interleaved rounds (the first variant rotates each round) so that a change
of machine load hits all alike: ``repeats`` rounds at least, more (at most
100) until the rounds take about ``min_time`` seconds by the time of a
warm-up round (the ResNet-50 comparisons run ``resnet_repeats`` rounds).
Times are reported as median, quartiles and range; a ratio is the ratio of
the medians with the quartiles and range of the per-round ratios and a
paired bootstrap 95 % interval (``ci``), which the summary repeats under
``intervals``. On CUDA the device is synchronised around every timed call.
One thread (the command line's default) keeps the timings of a shared
machine stable; all libraries run on the same torch kernels, so the
comparison is like for like. The load averages before and after are in
the result.

A cross-check runs first on a tiny float64 network on the CPU (two
convolutions, two linear layers, 3 batches): mmdl's factors against
curvlinops' (``'mc'`` and ``'empirical'``) after their normalisation
(curvlinops' expand factors are ``A / T`` and ``G * T`` of mmdl's, T =
output locations of the layer), and mmdl's input factor against BackPACK's
(the weight block of ``A``; its gradient factor uses other samples).
"""
import copy
import importlib
import os
import warnings
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import (Any, Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdl.continual import (KFACRegularizer, LayerCurvature, XKFACRegularizer,
                            collect_curvature, find_layers, flat_weight)
from mmdl.utils.benchmark import get_device, load_average, time_interleaved

TARGETS = dict(
    collect_over_peer=1.0, xkfac_over_kfac=1.1, penalty_over_matmul=1.3)
PEERS = {
    'curvlinops': 'curvlinops-for-pytorch',
    'backpack': 'backpack-for-pytorch'
}
SEED = 2147483647  # curvlinops' default label seed, used by mmdl too
NUM_CLASSES = 10
INSTALL_HINT = 'pip install -r requirements/benchmark.txt'

Batches = List[Tuple[Tensor, Tensor]]


@dataclass
class CurvatureBenchmarkConfig:
    """What :func:`run_benchmark` measures (see the module doc).

    Attributes:
        batches (int): Batches of random data per network.
        batch_size (int): Examples per batch.
        width (int): Hidden width W of the MLP.
        channels (int): Channels C of the CNN (C, 2C, 2C).
        repeats (int): Least number of timed rounds.
        warmup (int): Untimed calls of each variant first.
        min_time (float): Run more rounds (at most 100) of a comparison
            until they take about this many seconds.
        peers (Sequence[str]): Peer libraries (skipped when missing).
        skip_resnet (bool): Leave out the ResNet-50 measurements.
        resnet_batch (int): ResNet-50 batch size.
        resnet_size (int): ResNet-50 input side.
        resnet_repeats (int): Rounds of the ResNet-50 comparisons.
        device (str): ``'cpu'`` or ``'cuda[:i]'``.
    """

    batches: int = 20
    batch_size: int = 128
    width: int = 512
    channels: int = 16
    repeats: int = 7
    warmup: int = 1
    min_time: float = 10.0
    peers: Sequence[str] = field(default_factory=lambda: list(PEERS))
    skip_resnet: bool = False
    resnet_batch: int = 32
    resnet_size: int = 224
    resnet_repeats: int = 3
    device: str = 'cpu'


# --------------------------------------------------------------- helpers
def import_peer(name: str):
    """Import a peer library, or None when it is not installed.

    Args:
        name (str): ``'curvlinops'`` or ``'backpack'``.

    Returns:
        module | None: The module.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return importlib.import_module(name)
    except ImportError:
        return None


def peer_versions(names: Sequence[str] = tuple(PEERS)) -> Dict:
    """Installed version of each peer, None when it does not import."""
    out = {}
    for name in names:
        if import_peer(name) is None:
            out[name] = None
            continue
        try:
            out[name] = version(PEERS[name])
        except PackageNotFoundError:
            out[name] = 'unknown'
    return out


def _logits_fn(model: nn.Module, batch) -> Tuple[Tensor, Tensor]:
    x, y = batch
    return model(x), y


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def make_net(kind: str,
             width: int = 512,
             channels: int = 16,
             bn: bool = False,
             seed: int = 0,
             device: Union[str, torch.device] = 'cpu') -> nn.Module:
    """A benchmark network (``nn.Sequential``, as BackPACK needs).

    Args:
        kind (str): ``'mlp'`` (1x28x28 inputs) or ``'cnn'`` (3x32x32).
        width (int): Hidden width of the MLP. Defaults to 512.
        channels (int): Channels C of the CNN (C, 2C, 2C). Defaults to 16.
        bn (bool): BatchNorm after every hidden layer. Defaults to False.
        seed (int): Initialisation seed. Defaults to 0.
        device (str): Where the network lives (initialised on the CPU, so
            the weights do not depend on it). Defaults to ``'cpu'``.

    Returns:
        nn.Module: The network in train mode, float32.
    """
    torch.manual_seed(seed)
    if kind == 'mlp':
        dims = [784, width, width]
        layers: List[nn.Module] = [nn.Flatten()]
        for d_in, d_out in zip(dims[:-1], dims[1:]):
            layers.append(nn.Linear(d_in, d_out))
            if bn:
                layers.append(nn.BatchNorm1d(d_out))
            layers.append(nn.ReLU())
        layers.append(nn.Linear(width, NUM_CLASSES))
    elif kind == 'cnn':
        chans = [3, channels, 2 * channels, 2 * channels]
        layers = []
        for i, (c_in, c_out) in enumerate(zip(chans[:-1], chans[1:])):
            layers.append(
                nn.Conv2d(
                    c_in, c_out, 3, stride=1 if i == 0 else 2, padding=1))
            if bn:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.ReLU())
        layers += [nn.Flatten(), nn.Linear(chans[-1] * 8 * 8, NUM_CLASSES)]
    else:
        raise ValueError(f'unknown network {kind!r}')
    return nn.Sequential(*layers).to(device).train()


def make_data(kind: str,
              batches: int,
              batch_size: int,
              seed: int = 0,
              dtype: torch.dtype = torch.float32,
              device: Union[str, torch.device] = 'cpu') -> Batches:
    """Random inputs (standard normal) and labels for a network kind,
    drawn on the CPU and moved to ``device``."""
    shape = (1, 28, 28) if kind == 'mlp' else (3, 32, 32)
    gen = torch.Generator().manual_seed(seed)
    data = [(torch.randn(batch_size, *shape, generator=gen, dtype=dtype),
             torch.randint(NUM_CLASSES, (batch_size, ), generator=gen))
            for _ in range(batches)]
    return [(x.to(device), y.to(device)) for x, y in data]


def _locations(model: nn.Module, x: Tensor) -> Dict[str, int]:
    """Output locations T of each Linear/Conv2d layer for one input."""
    out: Dict[str, int] = {}
    layers = find_layers(model)
    handles = [
        layer.register_forward_hook(lambda m, i, o, name=name: out.update(
            {name: o[0, 0].numel() if o.dim() > 2 else 1}))
        for name, layer in layers.items()
    ]
    try:
        with torch.no_grad():
            model(x[:1])
    finally:
        for handle in handles:
            handle.remove()
    return out


def _rel_diff(x: Tensor, ref: Tensor) -> float:
    return ((x - ref).abs().max() / ref.abs().max().clamp_min(1e-300)).item()


def _shift(stats: Dict[str, Any], by: float) -> Dict[str, Any]:
    """A ratio's statistics minus ``by`` (a ratio as an overhead)."""
    out = {
        key: stats[key] - by
        for key in ('value', 'min', 'q25', 'q75', 'max')
    }
    out['ci'] = [bound - by for bound in stats['ci']]
    return out


# -------------------------------------------------------------- runners
def run_mmdl(model: nn.Module,
             data: Batches,
             fisher: str,
             curvature: str = 'kfac') -> Dict[str, LayerCurvature]:
    """mmdl collection, labels sampled with a generator seeded ``SEED`` on
    the model's device."""
    return collect_curvature(
        model,
        data,
        _logits_fn,
        curvature=curvature,
        fisher=fisher,
        generator=torch.Generator(_device_of(model)).manual_seed(SEED))


def run_curvlinops(model: nn.Module, data: Batches, fisher: str) -> Dict:
    """curvlinops' K-FAC factors (construction and computation).

    Args:
        model (nn.Module): The network.
        data (list): Batches.
        fisher (str): mmdl's Fisher type (``'true'`` is curvlinops'
            ``'mc'``).

    Returns:
        dict: Layer name to ``(A, G)``.
    """
    from curvlinops import KFACLinearOperator
    op = KFACLinearOperator(
        model,
        nn.CrossEntropyLoss(),
        [p for p in model.parameters() if p.requires_grad],
        data,
        fisher_type='mc' if fisher == 'true' else 'empirical',
        kfac_approx='expand',
        separate_weight_and_bias=False,
        check_deterministic=False,
        seed=SEED,
        num_data=sum(x.shape[0] for x, _ in data),
        num_per_example_loss_terms=1)
    op.compute_kronecker_factors()
    return {
        name: (op._input_covariances[name], op._gradient_covariances[name])
        for name in op._gradient_covariances
    }


def make_backpack_runner(model: nn.Module,
                         data: Batches) -> Callable[[], Dict]:
    """BackPACK KFAC over all batches on an extended copy of the model.

    Returns:
        callable: Returns layer name to the batch means of the weight's
        ``(A, G)`` (``A`` without the bias, BackPACK's conventions).
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from backpack import backpack, extend
        from backpack.extensions import KFAC
    net = extend(copy.deepcopy(model))
    loss_fn = extend(nn.CrossEntropyLoss())
    layers = find_layers(net)

    def run() -> Dict:
        torch.manual_seed(SEED)
        sums: Dict[str, List[Tensor]] = {}
        with warnings.catch_warnings():
            # BackPACK's module hooks on a first layer whose input does not
            # require grad
            warnings.filterwarnings(
                'ignore', message='Full backward hook is firing')
            for x, y in data:
                loss = loss_fn(net(x), y)
                with backpack(KFAC(mc_samples=1)):
                    loss.backward()
                for name, layer in layers.items():
                    g, a = layer.weight.kfac
                    if name in sums:
                        sums[name][0] += a
                        sums[name][1] += g
                    else:
                        sums[name] = [a.clone(), g.clone()]
                for param in net.parameters():
                    param.grad = None
        return {
            name: (a / len(data), g / len(data))
            for name, (a, g) in sums.items()
        }

    return run


# --------------------------------------------------------- cross-check
def cross_check(peers: Sequence[str] = tuple(PEERS)) -> Dict:
    """Factors of mmdl against the peers' on a tiny float64 CPU network.

    Args:
        peers (Sequence[str]): Peers to compare with (skipped when missing).

    Returns:
        dict: Per peer, the largest relative difference (max abs difference
        over max abs value of the peer's factor, over all layers) per
        Fisher type and factor, or ``{'skipped': reason}``.
    """
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1, stride=2), nn.ReLU(), nn.Conv2d(6, 8, 3),
        nn.ReLU(), nn.Flatten(), nn.Linear(32, 16), nn.ReLU(),
        nn.Linear(16, NUM_CLASSES)).double()
    gen = torch.Generator().manual_seed(1)
    data = [(torch.randn(16, 3, 8, 8, generator=gen, dtype=torch.double),
             torch.randint(NUM_CLASSES, (16, ), generator=gen))
            for _ in range(3)]
    locations = _locations(model, data[0][0])
    out: Dict[str, Dict] = {}
    for peer in peers:
        if import_peer(peer) is None:
            out[peer] = dict(skipped=f'{peer} is not installed')
            continue
        result: Dict[str, float] = {}
        if peer == 'curvlinops':
            for fisher in ('true', 'empirical'):
                ours = run_mmdl(model, data, fisher)
                theirs = run_curvlinops(model, data, fisher)
                diff_a = diff_g = 0.0
                for name, (a, g) in theirs.items():
                    t = locations[name]
                    diff_a = max(diff_a, _rel_diff(ours[name].a / t, a))
                    diff_g = max(diff_g, _rel_diff(ours[name].g * t, g))
                result[f'{fisher}_A'] = diff_a
                result[f'{fisher}_G'] = diff_g
        else:
            ours = run_mmdl(model, data, 'true')
            theirs = make_backpack_runner(model, data)()
            result['true_A'] = max(
                _rel_diff(ours[name].a[:-1, :-1], a)
                for name, (a, _) in theirs.items())
        out[peer] = result
    return out


# ---------------------------------------------------------- collection
def bench_collect(cfg: CurvatureBenchmarkConfig) -> Dict:
    """Collection time of mmdl and the peers, per (network, Fisher)."""
    installed = [p for p in cfg.peers if import_peer(p) is not None]
    device = get_device(cfg.device)
    rows = []
    ratios = {}
    for kind in ('mlp', 'cnn'):
        model = make_net(kind, cfg.width, cfg.channels, device=device)
        data = make_data(kind, cfg.batches, cfg.batch_size, device=device)
        for fisher in ('true', 'empirical'):
            fns: Dict[str, Callable[[], object]] = {
                'mmdl': lambda: run_mmdl(model, data, fisher)
            }
            comparable = {}
            if 'curvlinops' in installed:
                fns['curvlinops'] = lambda: run_curvlinops(model, data, fisher)
                comparable['curvlinops'] = True
            if 'backpack' in installed and fisher == 'true':
                fns['backpack'] = make_backpack_runner(model, data)
                comparable['backpack'] = kind == 'mlp'
            run = time_interleaved(
                fns, cfg.repeats, cfg.warmup, cfg.min_time, device=device)
            config = f'{kind}/{fisher}'
            for name in run.times:
                note = ''
                if name == 'backpack' and not comparable[name]:
                    note = ('gradient factor of convolutions summed over '
                            'locations first: not like-for-like')
                rows.append(
                    dict(
                        config=config,
                        network=kind,
                        fisher=fisher,
                        library=name,
                        comparable=comparable.get(name, True),
                        note=note,
                        **run.stats(name)))
            usable = [p for p, ok in comparable.items() if ok]
            if usable:
                best = min(usable, key=lambda p: run.stats(p)['median'])
                ratios[config] = dict(
                    best_peer=best,
                    peers=usable,
                    mmdl=run.stats('mmdl')['median'],
                    best_peer_time=run.stats(best)['median'],
                    **run.ratio('mmdl', best))
    return dict(
        rows=rows,
        ratios=ratios,
        peers_used=installed,
        skipped={
            p: f'not installed ({INSTALL_HINT})'
            for p in cfg.peers if p not in installed
        })


def bench_xkfac(cfg: CurvatureBenchmarkConfig) -> Dict:
    """mmdl XK-FAC against K-FAC collection with train-mode batch norm."""
    device = get_device(cfg.device)
    out = {}
    for kind in ('mlp', 'cnn'):
        model = make_net(kind, cfg.width, cfg.channels, bn=True, device=device)
        data = make_data(kind, cfg.batches, cfg.batch_size, device=device)
        run = time_interleaved(
            {
                curv: lambda curv=curv: run_mmdl(model, data, 'true', curv)
                for curv in ('kfac', 'xkfac')
            },
            cfg.repeats,
            cfg.warmup,
            cfg.min_time,
            device=device)
        out[f'{kind}_bn'] = dict(
            kfac=run.stats('kfac'),
            xkfac=run.stats('xkfac'),
            ratio=run.ratio('xkfac', 'kfac'))
    return out


# ------------------------------------------------------------- penalty
def random_psd(dim: int, rank: int = 8, gen=None) -> Tensor:
    """``V V^T / rank + 0.1 I`` with a (dim, rank) standard normal V."""
    v = torch.randn(dim, rank, generator=gen)
    return v @ v.T / rank + 0.1 * torch.eye(dim)


def random_factors(model: nn.Module,
                   seed: int = 0) -> Dict[str, LayerCurvature]:
    """Random K-FAC factors of the right sizes for every layer, drawn on
    the CPU and moved to the model's device."""
    gen = torch.Generator().manual_seed(seed)
    device = _device_of(model)
    out = {}
    for name, layer in find_layers(model).items():
        c_out, dim = flat_weight(layer).shape
        out[name] = LayerCurvature(
            a=random_psd(dim, gen=gen).to(device),
            g=random_psd(c_out, gen=gen).to(device),
            num_examples=1,
            num_batches=1)
    return out


def _penalty(cls,
             model: nn.Module,
             factors: Dict[str, LayerCurvature],
             seed: int = 0):
    """A penalty anchored at slightly perturbed weights (dW != 0)."""
    penalty = cls()
    penalty.set_anchor(model)
    gen = torch.Generator().manual_seed(seed)
    penalty.anchors = {
        name: w + 0.01 * torch.randn(w.shape, generator=gen).to(w.device)
        for name, w in penalty.anchors.items()
    }
    penalty.add_task(factors)
    return penalty


def bench_penalty(model: nn.Module,
                  factors: Dict[str, LayerCurvature],
                  repeats: int,
                  warmup: int,
                  xkfac: bool = True,
                  min_time: float = 0.0) -> Dict:
    """Penalty forward + backward against the bare products.

    Variants: ``matmul`` (``G @ dW @ A`` for all layers, dW given),
    ``kfac`` (``KFACRegularizer()(model).backward()``) and, with ``xkfac``,
    ``xkfac_matmul`` (``G dW A_c + (G_sum dW mu) mu^T``, ``A_c = A - mu
    mu^T`` given) and ``xkfac`` (``XKFACRegularizer``).
    """
    kfac = _penalty(KFACRegularizer, model, factors)
    deltas = {n: d.detach() for n, d in kfac.deltas(model).items()}
    triples = [(factors[n].g, d, factors[n].a) for n, d in deltas.items()]

    def bare():
        for g, d, a in triples:
            g @ d @ a

    def step(penalty):
        model.zero_grad(set_to_none=True)
        penalty(model).backward()

    fns = {'matmul': bare, 'kfac': lambda: step(kfac)}
    if xkfac:
        xpen = _penalty(XKFACRegularizer, model, factors)
        xterms = [(f.g, d, f.a - torch.outer(f.mu, f.mu), f.g_sum, f.mu)
                  for d, f in ((d, factors[n]) for n, d in deltas.items())]

        def bare_x():
            for g, d, ac, gs, mu in xterms:
                g @ d @ ac + torch.outer(gs @ (d @ mu), mu)

        fns.update(xkfac_matmul=bare_x, xkfac=lambda: step(xpen))
    run = time_interleaved(
        fns, repeats, warmup, min_time, device=_device_of(model))
    model.zero_grad(set_to_none=True)
    out: Dict[str, Any] = {name: run.stats(name) for name in run.times}
    out['kfac_over_matmul'] = run.ratio('kfac', 'matmul')
    if xkfac:
        out['xkfac_over_matmul'] = run.ratio('xkfac', 'matmul')
        out['xkfac_over_xkfac_matmul'] = run.ratio('xkfac', 'xkfac_matmul')
    out['layers'] = len(triples)
    out['gflop'] = sum(2 * g.shape[0] * d.shape[1] * (g.shape[0] + d.shape[1])
                       for g, d, _ in triples) / 1e9
    return out


def measure_step_overhead(model: nn.Module,
                          inputs: Tensor,
                          labels: Tensor,
                          repeats: int,
                          warmup: int = 1,
                          factors: Optional[Dict] = None) -> Dict:
    """SGD step time with and without the K-FAC penalty on all layers.

    Args:
        model (nn.Module): The network (put in train mode).
        inputs (Tensor): One batch of inputs, on the model's device.
        labels (Tensor): Its labels.
        repeats (int): Timed rounds (the two steps alternate).
        warmup (int): Untimed steps of each first. Defaults to 1.
        factors (dict, optional): Factors; random PSD ones by default.

    Returns:
        dict: Timings of ``plain`` and ``penalty`` and ``overhead`` =
        penalty median / plain median - 1 (with the per-round spread and
        the bootstrap interval, shifted alike).
    """
    model.train()
    factors = random_factors(model) if factors is None else factors
    penalty = _penalty(KFACRegularizer, model, factors)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def step(with_penalty: bool):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs), labels)
        if with_penalty:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()

    run = time_interleaved(
        dict(plain=lambda: step(False), penalty=lambda: step(True)),
        repeats,
        warmup,
        device=_device_of(model))
    return dict(
        plain=run.stats('plain'),
        penalty=run.stats('penalty'),
        overhead=_shift(run.ratio('penalty', 'plain'), 1.0))


def bench_resnet(cfg: CurvatureBenchmarkConfig) -> Dict:
    """ResNet-50 penalty against the bare products, and step overhead."""
    import torchvision
    device = get_device(cfg.device)
    model = torchvision.models.resnet50(weights=None).to(device)
    factors = random_factors(model)
    out = dict(
        factors='random PSD (V V^T / 8 + 0.1 I), not collected',
        batch=cfg.resnet_batch,
        size=cfg.resnet_size,
        penalty=bench_penalty(
            model, factors, cfg.resnet_repeats, 1, xkfac=False))
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(
        cfg.resnet_batch, 3, cfg.resnet_size, cfg.resnet_size, generator=gen)
    labels = torch.randint(1000, (cfg.resnet_batch, ), generator=gen)
    out['step'] = measure_step_overhead(model, inputs.to(device),
                                        labels.to(device), cfg.resnet_repeats,
                                        1, factors)
    return out


# ------------------------------------------------------------- summary
def _verdict(value: Optional[float], target: float) -> str:
    if value is None:
        return 'SKIP'
    return 'PASS' if value <= target else 'FAIL'


def summarize(result: Dict) -> Dict:
    """The summary: the four values, their targets and PASS/FAIL/SKIP.

    Args:
        result (dict): The measurements (``collect``, ``xkfac``,
            ``penalty``, ``resnet50``) of :func:`run_benchmark`.

    Returns:
        dict: ``collect_over_peer``, ``xkfac_over_kfac``,
        ``penalty_over_matmul`` (each the worst configuration, named in
        ``<key>_config``), ``penalty_step_overhead``, ``targets``,
        ``verdicts`` and ``intervals`` (the bootstrap interval of every
        value; None where not measured).
    """
    ratios = result['collect']['ratios']
    summary: Dict[str, Any] = {}
    intervals: Dict[str, Optional[List[float]]] = {}
    if ratios:
        worst = max(ratios, key=lambda c: ratios[c]['value'])
        summary['collect_over_peer'] = ratios[worst]['value']
        summary['collect_over_peer_config'] = worst
        summary['collect_over_peer_by_config'] = {
            c: r['value']
            for c, r in ratios.items()
        }
        intervals['collect_over_peer'] = ratios[worst]['ci']
    else:
        summary['collect_over_peer'] = None
        summary['collect_over_peer_config'] = (
            f'skipped: no peer library installed ({INSTALL_HINT})')
        intervals['collect_over_peer'] = None
    xk = result['xkfac']
    worst = max(xk, key=lambda k: xk[k]['ratio']['value'])
    summary['xkfac_over_kfac'] = xk[worst]['ratio']['value']
    summary['xkfac_over_kfac_config'] = worst
    intervals['xkfac_over_kfac'] = xk[worst]['ratio']['ci']
    pens = {'mlp': result['penalty']['kfac_over_matmul']}
    if 'penalty' in result['resnet50']:
        pens['resnet50'] = result['resnet50']['penalty']['kfac_over_matmul']
    worst = max(pens, key=lambda k: pens[k]['value'])
    summary['penalty_over_matmul'] = pens[worst]['value']
    summary['penalty_over_matmul_config'] = worst
    summary['penalty_over_matmul_by_network'] = {
        k: r['value']
        for k, r in pens.items()
    }
    intervals['penalty_over_matmul'] = pens[worst]['ci']
    step = result['resnet50'].get('step')
    summary['penalty_step_overhead'] = (
        step['overhead']['value'] if step else None)
    intervals['penalty_step_overhead'] = (
        step['overhead']['ci'] if step else None)
    summary['targets'] = dict(TARGETS)
    summary['verdicts'] = {
        key: _verdict(summary[key], target)
        for key, target in TARGETS.items()
    }
    summary['intervals'] = intervals
    return summary


def _fmt_load(load: Optional[List[float]]) -> str:
    return 'n/a' if load is None else '/'.join(f'{x:.1f}' for x in load)


def _fmt_ratio(r: Dict, spec: str = '.3f') -> str:
    lo, hi = r['ci']
    return (f"{r['value']:{spec}} [95% {lo:{spec}}, {hi:{spec}}; rounds "
            f"{r['min']:{spec}} to {r['max']:{spec}}]")


def format_report(result: Dict) -> str:
    """Tables of the measurements and the summary, as text."""
    config = result['config']
    lines = [
        f"torch {config['torch']} on {config['device']}, "
        f"{config['threads']} thread(s), {config['cpus']} CPUs, load "
        f"{_fmt_load(config['load_before'])} -> "
        f"{_fmt_load(config['load_after'])}; peers: " +
        ', '.join(f'{k} {v or "(not installed)"}'
                  for k, v in result['peers'].items())
    ]
    lines.append('\nCross-check (max relative difference of the factors):')
    for peer, values in result['cross_check'].items():
        lines.append(f'  {peer:<11} ' + ', '.join(
            f'{k} {v:.1e}' if isinstance(v, float) else f'{k}: {v}'
            for k, v in values.items()))
    lines.append('\nCollection (s, median [q25, q75])')
    for row in result['collect']['rows']:
        flag = '' if row['comparable'] else '  (not like-for-like)'
        lines.append(f"  {row['config']:<16}{row['library']:<12}"
                     f"{row['median']:9.3f} [{row['q25']:.3f}, "
                     f"{row['q75']:.3f}]{flag}")
    for config_, r in result['collect']['ratios'].items():
        lines.append(f"  {config_}: mmdl / {r['best_peer']} = "
                     f'{_fmt_ratio(r)}')
    for peer, why in result['collect']['skipped'].items():
        lines.append(f'  {peer}: skipped, {why}')
    lines.append('\nXK-FAC over K-FAC collection (train-mode BN)')
    for name, r in result['xkfac'].items():
        lines.append(f"  {name:<8} kfac {r['kfac']['median']:.3f} s, xkfac "
                     f"{r['xkfac']['median']:.3f} s, ratio "
                     f"{_fmt_ratio(r['ratio'])}")
    blocks = [('mlp', result['penalty'])]
    if 'penalty' in result['resnet50']:
        blocks.append(('resnet50', result['resnet50']['penalty']))
    lines.append('\nPenalty forward+backward vs bare G @ dW @ A '
                 '(ms, median)')
    for name, pen in blocks:
        times = ', '.join(f"{k} {pen[k]['median'] * 1e3:.1f}"
                          for k in ('matmul', 'kfac', 'xkfac_matmul', 'xkfac')
                          if k in pen)
        lines.append(f"  {name:<9}({pen['layers']} layers, "
                     f"{pen['gflop']:.1f} GFLOP) {times}")
        for key in ('kfac_over_matmul', 'xkfac_over_matmul',
                    'xkfac_over_xkfac_matmul'):
            if key in pen:
                lines.append(f'    {key}: {_fmt_ratio(pen[key])}')
    step = result['resnet50'].get('step')
    if step:
        r = result['resnet50']
        lines.append(f"\nResNet-50 SGD step, batch {r['batch']}, {r['size']}x"
                     f"{r['size']} ({r['factors']}): plain "
                     f"{step['plain']['median']:.2f} s, with K-FAC penalty "
                     f"{step['penalty']['median']:.2f} s, overhead "
                     f"{_fmt_ratio(step['overhead'], '+.1%')}")
    else:
        lines.append(f"\nResNet-50: {result['resnet50'].get('skipped')}")
    summary = result['summary']
    lines.append('\nSummary (value [bootstrap 95% interval])')
    for key in ('collect_over_peer', 'xkfac_over_kfac', 'penalty_over_matmul',
                'penalty_step_overhead'):
        value = summary[key]
        shown = 'n/a' if value is None else f'{value:.3f}'
        ci = summary['intervals'][key]
        shown_ci = '' if ci is None else f'[{ci[0]:.3f}, {ci[1]:.3f}]'
        if key in TARGETS:
            extra = summary.get(f'{key}_config', '')
            lines.append(f'  {key:<22} {shown:>7} {shown_ci:<16} (target <= '
                         f"{TARGETS[key]}) {summary['verdicts'][key]}  "
                         f'{extra}')
        else:
            lines.append(f'  {key:<22} {shown:>7} {shown_ci:<16} (reported)')
    return '\n'.join(lines)


# ----------------------------------------------------------------- run
def run_benchmark(cfg: CurvatureBenchmarkConfig) -> Dict:
    """All measurements and the summary (see the module doc).

    Args:
        cfg (CurvatureBenchmarkConfig): What to measure.

    Returns:
        dict: ``config`` (``cfg`` with ``torch``, ``threads``, ``cpus``,
        ``load_before``, ``load_after``, ``device``, ``seed``), ``peers``
        (versions), ``cross_check``, ``collect``, ``xkfac``, ``penalty``,
        ``resnet50`` and ``summary`` (:func:`summarize`).
    """
    device = get_device(cfg.device)
    result: Dict[str, Any] = dict(
        config=dict(
            asdict(cfg),
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            cpus=os.cpu_count(),
            load_before=load_average(),
            device=str(device),
            seed=SEED),
        peers=peer_versions(cfg.peers))
    result['cross_check'] = cross_check(cfg.peers)
    result['collect'] = bench_collect(cfg)
    result['xkfac'] = bench_xkfac(cfg)
    model = make_net('mlp', cfg.width, cfg.channels, device=device)
    factors = run_mmdl(
        model,
        make_data('mlp', 2, cfg.batch_size, seed=1, device=device),
        'true',
        curvature='xkfac')
    result['penalty'] = bench_penalty(model, factors, cfg.repeats, cfg.warmup,
                                      True, cfg.min_time)
    result['penalty']['factors'] = 'collected (XK-FAC, 2 batches)'
    if cfg.skip_resnet:
        result['resnet50'] = dict(skipped='--skip-resnet')
    else:
        result['resnet50'] = bench_resnet(cfg)
    result['config']['load_after'] = load_average()
    result['summary'] = summarize(result)
    return result
