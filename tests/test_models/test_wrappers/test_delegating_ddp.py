# Copyright (c) mmdl contributors. All rights reserved.
import os.path as osp
import sys

import pytest
from conftest import run_tool
from mmengine.model import BaseModel

from mmdl.engine import overrides_train_step

WORKER = osp.join(osp.dirname(__file__), 'ddp_worker.py')


@pytest.mark.dist
def test_delegating_ddp_two_cpu_processes(tmp_path):
    """2 gloo processes: the model's own train_step runs, with one and with
    two optimisers, and reproduces full-batch single-process training."""
    result = run_tool([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        '--master_port=29611', WORKER,
        str(tmp_path)
    ])
    assert result.returncode == 0, result.stderr[-4000:]
    for rank in range(2):
        assert (tmp_path / f'rank{rank}').read_text() == 'ok'


def test_overrides_train_step():

    class Plain(BaseModel):

        def forward(self, *args, **kwargs):
            pass

    class Custom(Plain):

        def train_step(self, data, optim_wrapper):
            return {}

    class Child(Custom):
        pass

    assert not overrides_train_step(Plain())
    assert overrides_train_step(Custom())
    assert overrides_train_step(Child())
