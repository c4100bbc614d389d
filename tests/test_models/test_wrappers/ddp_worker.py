# Copyright (c) mmdl contributors. All rights reserved.
"""Worker run by torchrun (2 CPU processes, gloo) from test_delegating_ddp.

Checks, on every rank, that DelegatingDistributedDataParallel runs the
model's own train_step and that data-parallel training reproduces
single-process full-batch training; writes ``ok`` to ``$OUT/rank{r}``.
"""
import os
import sys

import torch
import torch.distributed as dist
from mmengine.model import BaseModel, MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmdl.models.wrappers import (DelegatingDistributedDataParallel,
                                  average_gradients)
from mmdl.utils.cli import destroy_process_group


class TwoStepModel(BaseModel):
    """Custom train_step: updates ``first`` with its own optimiser, then
    ``second`` with another (an alternating update as in DARTS/GANs)."""

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.second = nn.Linear(4, 1)
        self.custom_calls = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.second(torch.tanh(self.first(inputs)))
        if mode == 'loss':
            return dict(loss=((out.squeeze(1) - data_samples)**2).mean())
        return out

    def train_step(self, data, optim_wrapper):
        self.custom_calls += 1
        inputs, targets = data
        if isinstance(optim_wrapper, OptimWrapperDict):
            for name in ('first', 'second'):
                wrapper = optim_wrapper[name]
                with wrapper.optim_context(self):
                    loss = self(inputs, targets, mode='loss')['loss']
                wrapper.update_params(loss)
        else:
            loss = self(inputs, targets, mode='loss')['loss']
            optim_wrapper.update_params(loss)
        return dict(loss=loss.detach())


def make_model_and_optim(two_optimizers):
    torch.manual_seed(0)
    model = TwoStepModel()
    if two_optimizers:
        optim = OptimWrapperDict(
            first=OptimWrapper(
                torch.optim.SGD(model.first.parameters(), lr=0.1)),
            second=OptimWrapper(
                torch.optim.SGD(
                    model.second.parameters(), lr=0.05, momentum=0.9)))
    else:
        optim = OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    return model, optim


def data(step):
    gen = torch.Generator().manual_seed(100 + step)
    inputs = torch.randn(8, 3, generator=gen)
    return inputs, inputs.sum(1)


def check(two_optimizers, rank, world):
    # single-process reference on the full batch of 8
    ref, ref_optim = make_model_and_optim(two_optimizers)
    for step in range(5):
        ref.train_step(data(step), ref_optim)
    # data parallel: each rank holds half of every batch
    model, optim = make_model_and_optim(two_optimizers)
    ddp = DelegatingDistributedDataParallel(module=model, device_ids=None)
    for step in range(5):
        inputs, targets = data(step)
        half = slice(rank * 4, rank * 4 + 4)
        ddp.train_step((inputs[half], targets[half]), optim)
    assert model.custom_calls == 5, model.custom_calls
    for (name, p), q in zip(model.named_parameters(), ref.parameters()):
        assert torch.allclose(p, q, atol=1e-6), (two_optimizers, name, p, q)
        gathered = [torch.zeros_like(p) for _ in range(world)]
        dist.all_gather(gathered, p.detach())
        assert all(torch.equal(g, gathered[0]) for g in gathered), name
    # optim_wrapper.step is restored after the step
    wrappers = optim.values() if two_optimizers else [optim]
    assert all('step' not in w.__dict__ for w in wrappers)


def check_default_wrapper_bypasses_train_step():
    """The trap this wrapper exists for: mmengine's default wrapper never
    calls the module's train_step."""
    model, optim = make_model_and_optim(False)
    ddp = MMDistributedDataParallel(module=model, device_ids=None)
    inputs, targets = data(0)
    ddp.train_step(dict(inputs=inputs[:4], data_samples=targets[:4]), optim)
    assert model.custom_calls == 0


def check_unused_parameter(rank):
    """A parameter with a gradient on rank 0 only gets the average."""
    param = nn.Parameter(torch.zeros(2))
    if rank == 0:
        param.grad = torch.tensor([2.0, 4.0])
    average_gradients([param])
    assert torch.equal(param.grad, torch.tensor([1.0, 2.0])), param.grad
    untouched = nn.Parameter(torch.zeros(2))
    average_gradients([untouched])
    assert untouched.grad is None


def main():
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    assert world == 2
    check(False, rank, world)
    check(True, rank, world)
    check_default_wrapper_bypasses_train_step()
    check_unused_parameter(rank)
    with open(os.path.join(sys.argv[1], f'rank{rank}'), 'w') as f:
        f.write('ok')
    # a barrier first, so that no rank exits with collectives in flight
    destroy_process_group()


if __name__ == '__main__':
    main()
