# Copyright (c) mmdl contributors. All rights reserved.
"""SingleEdgeDARTS: the DARTS search network's layout, the architecture
parameters shared per cell type, which operations run in each mode
(counted with forward hooks), exploration options against formulas
written here, and the clamped search network equal to the derived one."""
import pytest
import torch

from mmdl.models.nas import (DARTS_V2, PRIMITIVES, ArchitecturePlan,
                             SingleEdgeDARTS, edge_index, genotype_choices)

NON_NONE = [k for k, name in enumerate(PRIMITIVES) if name != 'none']


def _small(mode='single_edge', **kwargs):
    torch.manual_seed(0)
    kwargs.setdefault('genotype', DARTS_V2 if mode == 'discrete' else None)
    return SingleEdgeDARTS(
        mode=mode, num_layers=3, base_channels=4, in_channels=1, **kwargs)


def _x(n=4, seed=1):
    return torch.randn(
        n, 1, 8, 8, generator=torch.Generator().manual_seed(seed))


def _count_calls(net):
    """{(cell, edge, op name): calls} through forward hooks on every
    operation module."""
    calls = {}

    def hook(key):

        def fn(module, args, output):
            calls[key] = calls.get(key, 0) + 1

        return fn

    for c, cell in enumerate(net.cells):
        for e, edge in enumerate(cell.edges):
            for name, op in edge.ops.items():
                op.register_forward_hook(hook((c, e, name)))
    return calls


def test_darts_layout():
    net = SingleEdgeDARTS()
    assert len(net.cells) == 8 and net.reduction_layers == [2, 5]
    assert [c.reduction for c in net.cells
            ] == [False, False, True, False, False, True, False, False]
    assert net.out_channels == 256  # 4 nodes x 64 channels
    assert net.stem[0].out_channels == 48
    assert all(len(cell.edges) == 14 for cell in net.cells)
    assert all(
        set(edge.ops) == set(PRIMITIVES) for cell in net.cells
        for edge in cell.edges)
    # reduction cells: stride 2 on the edges leaving the cell inputs
    reduce = net.cells[2]
    assert reduce.edges[edge_index(0, 0)].ops['max_pool_3x3'][0].stride == 2
    assert reduce.edges[edge_index(
        0, 2 - 1)].ops['sep_conv_3x3'][0][1].stride == (2, 2)
    assert reduce.edges[edge_index(1,
                                   2)].ops['sep_conv_3x3'][0][1].stride == (1,
                                                                            1)
    # every batch norm after the stem has no affine parameters
    assert all(
        not m.affine for name, m in net.named_modules()
        if isinstance(m, torch.nn.BatchNorm2d) and not name.startswith('stem'))
    deep = SingleEdgeDARTS(num_layers=20)
    assert deep.reduction_layers == [6, 13] and len(deep.cells) == 20
    out = deep(torch.randn(1, 3, 8, 8))
    assert out[0].shape == (1, 256, 2, 2)


def test_architecture_parameters_shared_per_cell_type():
    net = _small()
    named = dict(net.named_parameters())
    alphas = {k: v for k, v in named.items() if 'alphas' in k}
    assert sorted(alphas) == sorted([f'alphas_normal.{e}' for e in range(14)] +
                                    [f'alphas_reduce.{e}' for e in range(14)])
    assert all(v.shape == (8, ) for v in alphas.values())
    assert {id(p)
            for p in net.arch_parameters()
            } == {id(p)
                  for p in alphas.values()}
    # every cell of a type reads the same parameters: a change of one
    # normal logit changes the plan of every normal cell alike
    plan = net.build_plan()
    assert all(
        plan.cell_choices('reduce', i) is plan.choices['reduce']
        for i in (1, 2))
    assert torch.equal(net.alphas('normal')[3], net.alphas_normal[3])
    assert SingleEdgeDARTS(
        mode='discrete', genotype=DARTS_V2,
        num_layers=3).arch_parameters() == []


def test_single_edge_runs_only_active_operations():
    net = _small()
    calls = _count_calls(net)
    gen = torch.Generator().manual_seed(0)
    plan = net.build_plan(('reduce', 5), gen)
    with net.using_plan(plan):
        net(_x())
    genotype = net.genotype()
    expected = {}
    for c, cell in enumerate(net.cells):
        cell_type = 'reduce' if cell.reduction else 'normal'
        choices = genotype_choices(getattr(genotype, cell_type), 4)
        for e in range(14):
            if cell_type == 'reduce' and e == 5:
                ops = [PRIMITIVES[k] for k in NON_NONE]
            elif choices[e] is None:
                ops = []
            else:
                ops = [PRIMITIVES[choices[e]]]
            for name in ops:
                expected[c, e, name] = 1
    assert calls == expected
    # 8 clamped edges per cell, plus 7 operations of the relaxed edge in
    # the two reduction cells; DARTS runs 14 x 7 per cell
    assert sum(calls.values()) == 3 * 8 + 2 * 7
    assert plan.active_operations('reduce', 1)[5] == NON_NONE
    darts = _small('darts')
    calls = _count_calls(darts)
    darts(_x())
    assert sum(calls.values()) == 3 * 14 * 7
    assert 'none' not in {name for _, _, name in calls}


def test_relaxed_edge_in_one_cell():
    net = _small(relax_cells='one')
    calls = _count_calls(net)
    plan = net.build_plan(('reduce', 5), torch.Generator().manual_seed(3))
    assert len(plan.relaxed_cells) == 1 and plan.relaxed_cells[0] in (1, 2)
    with net.using_plan(plan):
        net(_x())
    relaxed = {
        c
        for (c, e, _), n in calls.items() if e == 5 and c in (1, 2) and sum(
            1 for k in calls if k[:2] == (c, 5)) == 7
    }
    assert relaxed == set(plan.relaxed_cells)


def test_gradient_reaches_only_the_relaxed_edge():
    net = _small()
    plan = net.build_plan(('normal', 9), torch.Generator().manual_seed(0))
    with net.using_plan(plan):
        net(_x())[0].square().mean().backward()
    with_grad = [
        n for n, p in net.named_parameters()
        if 'alphas' in n and p.grad is not None
    ]
    assert with_grad == ['alphas_normal.9']
    # operations that did not run get no gradient
    genotype_ops = genotype_choices(net.genotype().normal, 4)
    edge = net.cells[0].edges[0]
    for name, op in edge.ops.items():
        ran = genotype_ops[0] is not None and PRIMITIVES[genotype_ops[0]] == \
            name
        for p in op.parameters():
            assert (p.grad is not None) == ran


def test_clamped_search_network_equals_derived_network():
    """No performance drop after derivation: the search network with every
    edge clamped computes exactly what the derived network computes with
    the same weights, in training and in evaluation mode."""
    net = _small()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for step in range(6):  # move weights, logits and running statistics
        gen = torch.Generator().manual_seed(step)
        plan = net.build_plan(net.sample_edge(step, gen), gen)
        with net.using_plan(plan):
            loss = net(_x(8, step))[0].square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    derived = net.derive()
    assert derived.mode == 'discrete' and derived.genotype() == net.genotype()
    assert sum(p.numel()
               for p in derived.parameters()) < sum(p.numel()
                                                    for p in net.parameters())
    x = _x(5, 99)
    for training in (False, True):
        net.train(training)
        derived.train(training)
        with torch.no_grad():
            assert torch.equal(net(x)[0], derived(x)[0])
            with net.using_plan(net.derived_plan()):
                assert torch.equal(net(x)[0], derived(x)[0])
    # derivation touched neither the running statistics nor the weights
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net.derive()
    after = net.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in before.items())


def test_darts_one_shot_differs_from_derived():
    net = _small('darts').eval()
    for p in net.arch_parameters():
        torch.nn.init.normal_(p, std=1.0)
    x = _x()
    with torch.no_grad():
        one_shot = net(x)[0]
        with net.using_plan(net.derived_plan()):
            clamped = net(x)[0]
        derived = net.derive()(x)[0]
    assert torch.equal(clamped, derived)
    assert not torch.allclose(one_shot, derived)
    # the one-shot network is the softmax mixture of every edge
    plan = net.build_plan()
    assert torch.allclose(plan.choices['normal'][4],
                          torch.softmax(net.alphas_normal[4].detach(), -1))


def test_exploration_options():
    # epsilon-greedy: every clamped edge keeps its place, ops are random
    net = _small(epsilon=1.0)
    base = genotype_choices(net.genotype().normal, 4)
    plan = net.build_plan(None, torch.Generator().manual_seed(0))
    explored = plan.choices['normal']
    assert [c is None for c in explored] == [c is None for c in base]
    assert all(c is None or 1 <= c < 8 for c in explored)
    assert net.build_plan().choices['normal'] == base  # evaluation: off
    # argmax including none: an edge whose none wins is absent
    net = _small(clamp='argmax')
    with torch.no_grad():
        net.alphas_normal[0].zero_()[0] = 1.0
        net.alphas_normal[1].zero_()[4] = 1.0
    choices = net.build_plan(None, torch.Generator()).choices['normal']
    assert choices[0] is None and choices[1] == 4
    # sampling from softmax(alpha), reproducible from the generator
    net = _small(clamp='sample')
    with torch.no_grad():
        net.alphas_normal[2].fill_(-50)[6] = 50.0
    plans = [
        net.build_plan(None,
                       torch.Generator().manual_seed(7)).choices
        for _ in range(2)
    ]
    assert plans[0] == plans[1] and plans[0]['normal'][2] == 6
    # Gumbel noise and temperature on the relaxed edge
    net = _small(gumbel=True, temperature=(2.0, 0.5))
    logits = net.alphas_reduce[3].detach()
    gen = torch.Generator().manual_seed(11)
    plan = net.build_plan(('reduce', 3), gen, progress=0.5)
    check = torch.Generator().manual_seed(11)
    uniform = torch.rand(8, generator=check)
    noisy = logits - torch.log(-torch.log(uniform))
    assert torch.allclose(plan.relaxed_weights,
                          torch.softmax(noisy / 1.25, -1))
    assert net.current_temperature(1.0) == 0.5
    # round-robin visits every edge type in order
    net = _small(edge_sampling='round_robin')
    assert [net.sample_edge(s)
            for s in (0, 13, 14, 27, 28)] == [('normal', 0), ('normal', 13),
                                              ('reduce', 0), ('reduce', 13),
                                              ('normal', 0)]


def test_discrete_mode_builds_only_the_genotype():
    net = _small('discrete')
    built = sum(len(edge.ops) for cell in net.cells for edge in cell.edges)
    assert built == 3 * 8
    assert isinstance(net.build_plan(), ArchitecturePlan)
    assert net(_x())[0].shape == (4, 64, 2, 2)
    with pytest.raises(RuntimeError, match='no architecture parameters'):
        net.alphas('normal')


@pytest.mark.parametrize('kwargs,match', [
    (dict(mode='gdas'), 'mode must be one of'),
    (dict(mode='discrete'), 'needs a genotype'),
    (dict(genotype='DARTS_V2'), 'needs a genotype'),
    (dict(clamp='random'), 'clamp must be one of'),
    (dict(edge_sampling='cyclic'), 'edge_sampling'),
    (dict(epsilon=1.5), 'epsilon'),
    (dict(temperature=0), 'temperature'),
    (dict(relax_cells='two'), 'relax_cells'),
    (dict(mode='discrete', genotype='DARTS_V2', num_nodes=3), '4 nodes'),
])
def test_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SingleEdgeDARTS(num_layers=3, **kwargs)
    with pytest.raises(ValueError, match='no edge type'):
        _small().build_plan(('normal', 14))
