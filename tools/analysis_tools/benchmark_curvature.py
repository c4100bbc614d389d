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

  Networks (random data, ``--batches`` batches of ``--batch-size``): ``mlp``
  784-W-W-10 (W = ``--width``, ReLU) on 1x28x28 inputs and ``cnn``
  (3x3 convolutions 3-C-2C-2C, the last two with stride 2, ReLU, a linear
  classifier; C = ``--channels``) on 3x32x32 inputs. Fisher types: mmdl
  ``'true'`` (one label sampled per example) against curvlinops ``'mc'``
  (``mc_samples=1``) and BackPACK KFAC; mmdl ``'empirical'`` against
  curvlinops ``'empirical'``. mmdl and curvlinops draw their labels from a
  generator with the same seed and so get the *same* labels.
  Convolutions: mmdl and curvlinops use KFC "expand"; BackPACK's gradient
  factor sums the output gradients over locations before the outer product
  (a different approximation and less work), so BackPACK is reported on the
  CNN but left out of its ratio. The summary value is the *largest* ratio
  over the like-for-like (network, Fisher type) pairs; ``collect`` in the
  JSON has every pair.

* ``xkfac_over_kfac`` (target <= 1.1): mmdl XK-FAC over K-FAC collection on
  the same networks with a BatchNorm after every hidden layer, in train
  mode (``mlp_bn``, ``cnn_bn``); the largest of the two.

* ``penalty_over_matmul`` (target <= 1.3): ``KFACPenalty(model)`` forward
  and ``backward()`` over the bare time of ``G @ dW @ A`` for all penalised
  layers with ``dW`` given (the least work there is). On the ``mlp`` with
  collected factors and, unless ``--skip-resnet``, on the 54 Conv2d/Linear
  layers of ResNet-50 (random factors, see below); the summary value is the
  largest. The XK-FAC penalty is reported against the same product and
  against its own minimal work ``G dW (A - mu mu^T) + (G_sum dW mu) mu^T``
  with the centred factor given.

* ``penalty_step_overhead`` (reported, no target): one SGD step of
  torchvision ResNet-50 (``weights=None``, train mode, ``--resnet-size``
  224, ``--resnet-batch`` 32, cross-entropy) with and without the K-FAC
  penalty on all 54 Conv2d/Linear layers, as a fraction of the step
  without it. The factors are **random** PSD matrices of the right sizes
  (``A = V V^T / r + 0.1 I``, ``V`` of rank r = 8; timing does not depend
  on the values; collecting real ones would take long on a CPU): A up to
  4608 x 4608 for the 3x3 convolutions of the last stage (no bias), 2049 x
  2049 for the classifier.

Timing: every variant runs ``--warmup`` times untimed, then rounds run the
variants of one comparison round-robin (the first variant rotates each
round) so that a change of machine load hits all alike: ``--repeats``
rounds at least, more (at most 100) until the rounds take about
``--min-time`` seconds by the time of the warm-up round (the ResNet-50
comparisons run ``--resnet-repeats`` rounds). The median is reported with
the range (``time.perf_counter``); ratios are the ratio of the medians,
with the range of the per-round ratios as spread. By default torch runs
one thread (``--threads 1``; 0 keeps torch's default): on a machine shared
with other jobs, several threads that wait for each other turned the same
collection into anything from 0.16 s to 6 s, one thread stays within about
10 %; all libraries run on the same torch kernels, so the comparison is
like for like. The load averages before and after are in the JSON.

A cross-check runs first on a tiny float64 network (two convolutions, two
linear layers, 3 batches): mmdl's factors against curvlinops' (``'mc'`` and
``'empirical'``) after their normalisation (curvlinops' expand factors are
``A / T`` and ``G * T`` of mmdl's, T = output locations of the layer), and
mmdl's input factor against BackPACK's (the weight block of ``A``; its
gradient factor uses other samples).

The exit code is 0 whether or not the targets are met.

Example::

    python tools/analysis_tools/benchmark_curvature.py --json bench.json
    python tools/analysis_tools/benchmark_curvature.py --skip-resnet \\
        --repeats 9 --threads 0  # torch's default threads
"""
import argparse
import copy
import gc
import importlib
import json
import math
import os
import statistics
import time
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdl.continual import (KFACPenalty, LayerCurvature, XKFACPenalty,
                            collect_curvature, find_layers, flat_weight)

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


def make_net(kind: str,
             width: int = 512,
             channels: int = 16,
             bn: bool = False,
             seed: int = 0) -> nn.Module:
    """A benchmark network (``nn.Sequential``, as BackPACK needs).

    Args:
        kind (str): ``'mlp'`` (1x28x28 inputs) or ``'cnn'`` (3x32x32).
        width (int): Hidden width of the MLP. Defaults to 512.
        channels (int): Channels C of the CNN (C, 2C, 2C). Defaults to 16.
        bn (bool): BatchNorm after every hidden layer. Defaults to False.
        seed (int): Initialisation seed. Defaults to 0.

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
    return nn.Sequential(*layers).train()


def make_data(kind: str,
              batches: int,
              batch_size: int,
              seed: int = 0,
              dtype: torch.dtype = torch.float32) -> Batches:
    """Random inputs (standard normal) and labels for a network kind."""
    shape = (1, 28, 28) if kind == 'mlp' else (3, 32, 32)
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch_size, *shape, generator=gen, dtype=dtype),
             torch.randint(NUM_CLASSES, (batch_size, ), generator=gen))
            for _ in range(batches)]


def time_round_robin(fns: Dict[str, Callable[[], object]],
                     repeats: int,
                     warmup: int = 1,
                     min_time: float = 0.0,
                     max_repeats: int = 100) -> Tuple[Dict, Dict]:
    """Time functions round-robin.

    Args:
        fns (dict): Name to a function without arguments.
        repeats (int): Timed rounds; the first function rotates each round.
        warmup (int): Untimed calls of each function first. Defaults to 1.
        min_time (float): With a warm-up, run more rounds (up to
            ``max_repeats``) until they take about this many seconds, by
            the time of the warm-up round. Defaults to 0.
        max_repeats (int): See ``min_time``. Defaults to 100.

    Returns:
        tuple[dict, dict]: Name to its times in seconds, one per round, and
        name to the value of its last call. The garbage collector runs
        before each round and is off during the round, as in ``timeit``.
    """
    names = list(fns)
    times: Dict[str, List[float]] = {name: [] for name in names}
    results: Dict[str, object] = {}
    start = time.perf_counter()
    for _ in range(warmup):
        for name in names:
            results[name] = fns[name]()
    if warmup and min_time > 0:
        per_round = (time.perf_counter() - start) / warmup
        repeats = max(repeats, min(max_repeats,
                                   math.ceil(min_time / per_round)))
    enabled = gc.isenabled()
    try:
        for index in range(repeats):
            shift = index % len(names)
            gc.collect()  # once a round (it takes ~0.1 s here), then off
            gc.disable()
            for name in names[shift:] + names[:shift]:
                start = time.perf_counter()
                results[name] = fns[name]()
                times[name].append(time.perf_counter() - start)
            if enabled:
                gc.enable()
    finally:
        if enabled:
            gc.enable()
    return times, results


def timing(times: Sequence[float]) -> Dict:
    """Median, min and max of a list of times."""
    return dict(
        median=statistics.median(times),
        min=min(times),
        max=max(times),
        times=list(times))


def ratio(num: Sequence[float], den: Sequence[float]) -> Dict:
    """Ratio of the medians, with the range of the per-round ratios."""
    rounds = [a / b for a, b in zip(num, den)]
    return dict(
        value=statistics.median(num) / statistics.median(den),
        min=min(rounds),
        max=max(rounds))


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


def _load() -> Optional[List[float]]:
    """1, 5 and 15 minute load averages, where the OS has them."""
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def _fmt_load(load: Optional[List[float]]) -> str:
    return 'n/a' if load is None else '/'.join(f'{x:.1f}' for x in load)


def _rel_diff(x: Tensor, ref: Tensor) -> float:
    return ((x - ref).abs().max() / ref.abs().max().clamp_min(1e-300)).item()


# -------------------------------------------------------------- runners
def run_mmdl(model: nn.Module,
             data: Batches,
             fisher: str,
             curvature: str = 'kfac') -> Dict[str, LayerCurvature]:
    """mmdl collection, labels sampled with a generator seeded ``SEED``."""
    return collect_curvature(
        model,
        data,
        _logits_fn,
        curvature=curvature,
        fisher=fisher,
        generator=torch.Generator().manual_seed(SEED))


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
    """Factors of mmdl against the peers' on a tiny float64 network.

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
def bench_collect(args: argparse.Namespace, peers: Sequence[str]) -> Dict:
    """Collection time of mmdl and the peers, per (network, Fisher)."""
    installed = [p for p in peers if import_peer(p) is not None]
    rows = []
    ratios = {}
    for kind in ('mlp', 'cnn'):
        model = make_net(kind, args.width, args.channels)
        data = make_data(kind, args.batches, args.batch_size)
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
            times, _ = time_round_robin(fns, args.repeats, args.warmup,
                                        args.min_time)
            config = f'{kind}/{fisher}'
            for name, values in times.items():
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
                        **timing(values)))
            usable = [p for p, ok in comparable.items() if ok]
            if usable:
                best = min(usable, key=lambda p: statistics.median(times[p]))
                ratios[config] = dict(
                    best_peer=best,
                    peers=usable,
                    mmdl=statistics.median(times['mmdl']),
                    best_peer_time=statistics.median(times[best]),
                    **ratio(times['mmdl'], times[best]))
    return dict(
        rows=rows,
        ratios=ratios,
        peers_used=installed,
        skipped={
            p: f'not installed ({INSTALL_HINT})'
            for p in peers if p not in installed
        })


def bench_xkfac(args: argparse.Namespace) -> Dict:
    """mmdl XK-FAC against K-FAC collection with train-mode batch norm."""
    out = {}
    for kind in ('mlp', 'cnn'):
        model = make_net(kind, args.width, args.channels, bn=True)
        data = make_data(kind, args.batches, args.batch_size)
        times, _ = time_round_robin(
            {
                curv: lambda curv=curv: run_mmdl(model, data, 'true', curv)
                for curv in ('kfac', 'xkfac')
            }, args.repeats, args.warmup, args.min_time)
        out[f'{kind}_bn'] = dict(
            kfac=timing(times['kfac']),
            xkfac=timing(times['xkfac']),
            ratio=ratio(times['xkfac'], times['kfac']))
    return out


# ------------------------------------------------------------- penalty
def random_psd(dim: int, rank: int = 8, gen=None) -> Tensor:
    """``V V^T / rank + 0.1 I`` with a (dim, rank) standard normal V."""
    v = torch.randn(dim, rank, generator=gen)
    return v @ v.T / rank + 0.1 * torch.eye(dim)


def random_factors(model: nn.Module,
                   seed: int = 0) -> Dict[str, LayerCurvature]:
    """Random K-FAC factors of the right sizes for every layer."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for name, layer in find_layers(model).items():
        c_out, dim = flat_weight(layer).shape
        out[name] = LayerCurvature(
            a=random_psd(dim, gen=gen),
            g=random_psd(c_out, gen=gen),
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
        name: w + 0.01 * torch.randn(w.shape, generator=gen)
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
    ``kfac`` (``KFACPenalty(model).backward()``) and, with ``xkfac``,
    ``xkfac_matmul`` (``G dW A_c + (G_sum dW mu) mu^T``, ``A_c = A - mu
    mu^T`` given) and ``xkfac`` (``XKFACPenalty``).
    """
    kfac = _penalty(KFACPenalty, model, factors)
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
        xpen = _penalty(XKFACPenalty, model, factors)
        xterms = [(f.g, d, f.a - torch.outer(f.mu, f.mu), f.g_sum, f.mu)
                  for d, f in ((d, factors[n]) for n, d in deltas.items())]

        def bare_x():
            for g, d, ac, gs, mu in xterms:
                g @ d @ ac + torch.outer(gs @ (d @ mu), mu)

        fns.update(xkfac_matmul=bare_x, xkfac=lambda: step(xpen))
    times, _ = time_round_robin(fns, repeats, warmup, min_time)
    model.zero_grad(set_to_none=True)
    out = {name: timing(values) for name, values in times.items()}
    out['kfac_over_matmul'] = ratio(times['kfac'], times['matmul'])
    if xkfac:
        out['xkfac_over_matmul'] = ratio(times['xkfac'], times['matmul'])
        out['xkfac_over_xkfac_matmul'] = ratio(times['xkfac'],
                                               times['xkfac_matmul'])
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
        inputs (Tensor): One batch of inputs.
        labels (Tensor): Its labels.
        repeats (int): Timed rounds (the two steps alternate).
        warmup (int): Untimed steps of each first. Defaults to 1.
        factors (dict, optional): Factors; random PSD ones by default.

    Returns:
        dict: Timings of ``plain`` and ``penalty`` and ``overhead`` =
        penalty median / plain median - 1 (with the per-round range).
    """
    model.train()
    factors = random_factors(model) if factors is None else factors
    penalty = _penalty(KFACPenalty, model, factors)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

    def step(with_penalty: bool):
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(inputs), labels)
        if with_penalty:
            loss = loss + penalty(model)
        loss.backward()
        optimizer.step()

    times, _ = time_round_robin(
        dict(plain=lambda: step(False), penalty=lambda: step(True)), repeats,
        warmup)
    rel = ratio(times['penalty'], times['plain'])
    return dict(
        plain=timing(times['plain']),
        penalty=timing(times['penalty']),
        overhead=dict(
            value=rel['value'] - 1, min=rel['min'] - 1, max=rel['max'] - 1))


def bench_resnet(args: argparse.Namespace) -> Dict:
    """ResNet-50 penalty against the bare products, and step overhead."""
    import torchvision
    model = torchvision.models.resnet50(weights=None)
    factors = random_factors(model)
    out = dict(
        factors='random PSD (V V^T / 8 + 0.1 I), not collected',
        batch=args.resnet_batch,
        size=args.resnet_size,
        penalty=bench_penalty(
            model, factors, args.resnet_repeats, 1, xkfac=False))
    gen = torch.Generator().manual_seed(0)
    inputs = torch.randn(
        args.resnet_batch,
        3,
        args.resnet_size,
        args.resnet_size,
        generator=gen)
    labels = torch.randint(1000, (args.resnet_batch, ), generator=gen)
    out['step'] = measure_step_overhead(model, inputs, labels,
                                        args.resnet_repeats, 1, factors)
    return out


# ---------------------------------------------------------------- main
def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark mmdl curvature collection and penalties')
    parser.add_argument('--json', help='write the results to this file')
    parser.add_argument('--batches', type=int, default=20)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument(
        '--width', type=int, default=512, help='hidden width of the MLP')
    parser.add_argument(
        '--channels', type=int, default=16, help='channels of the CNN')
    parser.add_argument(
        '--repeats', type=int, default=7, help='least number of rounds')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument(
        '--min-time',
        type=float,
        default=10.0,
        help='run more rounds (at most 100) of a comparison until they take '
        'about this many seconds (by the warm-up round)')
    parser.add_argument(
        '--peers',
        nargs='*',
        default=list(PEERS),
        choices=list(PEERS),
        help='peer libraries to compare with (skipped when missing)')
    parser.add_argument('--skip-resnet', action='store_true')
    parser.add_argument('--resnet-batch', type=int, default=32)
    parser.add_argument('--resnet-size', type=int, default=224)
    parser.add_argument('--resnet-repeats', type=int, default=3)
    parser.add_argument(
        '--threads',
        type=int,
        default=1,
        help='torch.set_num_threads; 0 keeps the default (default: 1)')
    return parser.parse_args(argv)


def _verdict(value: Optional[float], target: float) -> str:
    if value is None:
        return 'SKIP'
    return 'PASS' if value <= target else 'FAIL'


def summarise(result: Dict) -> Dict:
    """The summary: the four values, their targets and PASS/FAIL/SKIP."""
    ratios = result['collect']['ratios']
    summary: Dict[str, object] = {}
    if ratios:
        worst = max(ratios, key=lambda c: ratios[c]['value'])
        summary['collect_over_peer'] = ratios[worst]['value']
        summary['collect_over_peer_config'] = worst
        summary['collect_over_peer_by_config'] = {
            c: r['value']
            for c, r in ratios.items()
        }
    else:
        summary['collect_over_peer'] = None
        summary['collect_over_peer_config'] = (
            f'skipped: no peer library installed ({INSTALL_HINT})')
    xk = result['xkfac']
    worst = max(xk, key=lambda k: xk[k]['ratio']['value'])
    summary['xkfac_over_kfac'] = xk[worst]['ratio']['value']
    summary['xkfac_over_kfac_config'] = worst
    pens = {'mlp': result['penalty']['kfac_over_matmul']['value']}
    if 'penalty' in result['resnet50']:
        pens['resnet50'] = result['resnet50']['penalty']['kfac_over_matmul'][
            'value']
    worst = max(pens, key=pens.get)
    summary['penalty_over_matmul'] = pens[worst]
    summary['penalty_over_matmul_config'] = worst
    summary['penalty_over_matmul_by_network'] = pens
    step = result['resnet50'].get('step')
    summary['penalty_step_overhead'] = (
        step['overhead']['value'] if step else None)
    summary['targets'] = dict(TARGETS)
    summary['verdicts'] = {
        key: _verdict(summary[key], target)
        for key, target in TARGETS.items()
    }
    return summary


def print_report(result: Dict) -> None:
    """Tables of the measurements and the summary."""
    config = result['config']
    print(f"torch {config['torch']}, {config['threads']} thread(s) on "
          f"{config['cpus']} CPUs, load {_fmt_load(config['load_before'])}"
          f" -> {_fmt_load(config['load_after'])}; peers: " +
          ', '.join(f'{k} {v or "(not installed)"}'
                    for k, v in result['peers'].items()))
    print('\nCross-check (max relative difference of the factors):')
    for peer, values in result['cross_check'].items():
        print(
            f'  {peer:<11}',
            ', '.join(f'{k} {v:.1e}' if isinstance(v, float) else f'{k}: {v}'
                      for k, v in values.items()))
    print('\nCollection (s, median [min, max])')
    print(f"  {'config':<16}{'library':<12}{'median':>9}{'min':>9}"
          f"{'max':>9}")
    for row in result['collect']['rows']:
        flag = '' if row['comparable'] else '  (not like-for-like)'
        print(f"  {row['config']:<16}{row['library']:<12}"
              f"{row['median']:9.3f}{row['min']:9.3f}{row['max']:9.3f}"
              f'{flag}')
    for config, r in result['collect']['ratios'].items():
        print(f"  {config}: mmdl / {r['best_peer']} = {r['value']:.3f} "
              f"[{r['min']:.3f}, {r['max']:.3f}]")
    for peer, why in result['collect']['skipped'].items():
        print(f'  {peer}: skipped, {why}')
    print('\nXK-FAC over K-FAC collection (train-mode BN)')
    for name, r in result['xkfac'].items():
        print(f"  {name:<8} kfac {r['kfac']['median']:.3f} s, xkfac "
              f"{r['xkfac']['median']:.3f} s, ratio "
              f"{r['ratio']['value']:.3f} [{r['ratio']['min']:.3f}, "
              f"{r['ratio']['max']:.3f}]")
    blocks = [('mlp', result['penalty'])]
    if 'penalty' in result['resnet50']:
        blocks.append(('resnet50', result['resnet50']['penalty']))
    print('\nPenalty forward+backward vs bare G @ dW @ A (ms, median)')
    for name, pen in blocks:
        line = ', '.join(f"{k} {pen[k]['median'] * 1e3:.1f}"
                         for k in ('matmul', 'kfac', 'xkfac_matmul', 'xkfac')
                         if k in pen)
        print(f"  {name:<9}({pen['layers']} layers, {pen['gflop']:.1f} "
              f'GFLOP) {line}')
        for key in ('kfac_over_matmul', 'xkfac_over_matmul',
                    'xkfac_over_xkfac_matmul'):
            if key in pen:
                r = pen[key]
                print(f"    {key}: {r['value']:.3f} [{r['min']:.3f}, "
                      f"{r['max']:.3f}]")
    step = result['resnet50'].get('step')
    if step:
        r = result['resnet50']
        print(f"\nResNet-50 SGD step, batch {r['batch']}, {r['size']}x"
              f"{r['size']} ({r['factors']}): plain "
              f"{step['plain']['median']:.2f} s, with K-FAC penalty "
              f"{step['penalty']['median']:.2f} s, overhead "
              f"{step['overhead']['value']:+.1%} "
              f"[{step['overhead']['min']:+.1%}, "
              f"{step['overhead']['max']:+.1%}]")
    else:
        print(f"\nResNet-50: {result['resnet50'].get('skipped')}")
    summary = result['summary']
    print('\nSummary')
    for key in ('collect_over_peer', 'xkfac_over_kfac', 'penalty_over_matmul',
                'penalty_step_overhead'):
        value = summary[key]
        shown = 'n/a' if value is None else f'{value:.3f}'
        if key in TARGETS:
            extra = summary.get(f'{key}_config', '')
            print(f'  {key:<22} {shown:>7}  (target <= {TARGETS[key]}) '
                  f"{summary['verdicts'][key]}  {extra}")
        else:
            print(f'  {key:<22} {shown:>7}  (reported)')


def main(argv=None) -> Dict:
    """Run the benchmark, print the tables, write ``--json``.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        dict: All measurements, with the ``summary``.
    """
    args = parse_args(argv)
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        result = run(args)
    finally:
        torch.set_num_threads(threads)
    print_report(result)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


def run(args: argparse.Namespace) -> Dict:
    """All measurements and the summary (see the module doc)."""
    result: Dict[str, object] = dict(
        config=dict(
            vars(args),
            torch=torch.__version__,
            threads=torch.get_num_threads(),
            cpus=os.cpu_count(),
            load_before=_load(),
            device='cpu',
            seed=SEED),
        peers=peer_versions(args.peers))
    result['cross_check'] = cross_check(args.peers)
    result['collect'] = bench_collect(args, args.peers)
    result['xkfac'] = bench_xkfac(args)
    model = make_net('mlp', args.width, args.channels)
    factors = run_mmdl(
        model,
        make_data('mlp', 2, args.batch_size, seed=1),
        'true',
        curvature='xkfac')
    result['penalty'] = bench_penalty(model, factors, args.repeats,
                                      args.warmup, True, args.min_time)
    result['penalty']['factors'] = 'collected (XK-FAC, 2 batches)'
    if args.skip_resnet:
        result['resnet50'] = dict(skipped='--skip-resnet')
    else:
        result['resnet50'] = bench_resnet(args)
    result['config']['load_after'] = _load()
    result['summary'] = summarise(result)
    return result


if __name__ == '__main__':
    main()
