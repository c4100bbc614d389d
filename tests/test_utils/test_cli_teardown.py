# Copyright (c) mmdl contributors. All rights reserved.
"""The tools tear the default process group down at the end (a live gloo
group can abort the process while the interpreter finalises)."""
import torch.distributed as dist

from mmdl.utils.cli import destroy_process_group


def test_destroy_process_group(tmp_path):
    destroy_process_group()  # no group: nothing to do
    assert not dist.is_initialized()
    dist.init_process_group(
        'gloo',
        init_method=f'file://{tmp_path / "store"}',
        rank=0,
        world_size=1)
    assert dist.is_initialized()
    destroy_process_group()
    assert not dist.is_initialized()
