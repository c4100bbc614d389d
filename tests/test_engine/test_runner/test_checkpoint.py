# Copyright (c) mmdl contributors. All rights reserved.
import os
import pickle
import subprocess
import sys
import uuid

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub, MMLogger
from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

from mmdl.engine.runner import checkpoint as ckpt
from mmdl.engine.runner.checkpoint import (
    UntrustedCheckpointError, find_latest_checkpoint, load_checkpoint_file,
    message_hub_from_plain, message_hub_to_plain, trust_checkpoint)


def _message_hub_state():
    hub = MessageHub.get_instance(f'test_checkpoint_hub_{uuid.uuid4()}')
    for value in (1.5, 0.5, 2.0):
        hub.update_scalar('train/loss', value)
    hub.update_scalar('train/lr', np.float64(0.1), count=2)
    hub.update_info('iter', 3)
    hub.update_info('np_value', np.int64(7))
    return hub.state_dict()


def _is_builtin_only(value):
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and _is_builtin_only(v)
            for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_builtin_only(v) for v in value)
    return type(value) in (int, float, str, bool, type(None))


def test_message_hub_plain_round_trip():
    state = _message_hub_state()
    plain = message_hub_to_plain(state)
    assert _is_builtin_only(plain)
    assert plain['runtime_info']['np_value'] == 7
    restored = message_hub_from_plain(plain)
    for key, buffer in state['log_scalars'].items():
        assert isinstance(restored['log_scalars'][key], HistoryBuffer)
        for a, b in zip(buffer.data, restored['log_scalars'][key].data):
            np.testing.assert_array_equal(a, b)
    assert restored['log_scalars']['train/loss'].mean() == pytest.approx(4.0 /
                                                                         3)
    hub = MessageHub.get_instance('test_checkpoint_restored')
    hub.load_state_dict(restored)
    assert hub.get_info('iter') == 3
    assert hub.get_scalar('train/lr').data[1].tolist() == [2]
    # states from mmengine pass through unchanged
    assert message_hub_from_plain(state) is state


def test_old_mmengine_checkpoint_loads_weights_only(tmp_path):
    """A checkpoint as mmengine 0.10.7 writes it (HistoryBuffer, numpy,
    builtins.getattr) loads through the allow-list."""
    path = str(tmp_path / 'old.pth')
    weights = {'fc.weight': torch.randn(3, 2)}
    torch.save(
        dict(
            meta=dict(epoch=2, seed=np.int64(3)),
            state_dict=weights,
            message_hub=_message_hub_state()), path)
    unsafe = set(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    assert {
        'builtins.getattr', 'mmengine.logging.history_buffer.HistoryBuffer'
    } <= unsafe
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)  # what mmengine does on torch>=2.6
    loaded = load_checkpoint_file(path)
    assert torch.equal(loaded['state_dict']['fc.weight'], weights['fc.weight'])
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert buffer.data[0].tolist() == [1.5, 0.5, 2.0]
    assert buffer.statistics('max') == 2.0


def test_restricted_getattr_only_resolves_statistics():
    assert ckpt._history_buffer_getattr(HistoryBuffer,
                                        'mean') is HistoryBuffer.mean
    with pytest.raises(UntrustedCheckpointError, match='update'):
        ckpt._history_buffer_getattr(HistoryBuffer, 'update')
    with pytest.raises(UntrustedCheckpointError):
        ckpt._history_buffer_getattr(os, 'system')


class _GetattrPayload:

    def __reduce__(self):
        return getattr, (HistoryBuffer, 'update')


def test_getattr_payload_is_refused(tmp_path):
    path = str(tmp_path / 'getattr.pth')
    torch.save({'x': _GetattrPayload()}, path)
    with pytest.raises(UntrustedCheckpointError, match='update'):
        load_checkpoint_file(path)


class _Payload:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def test_unknown_global_is_refused_then_trusted(tmp_path, monkeypatch):
    marker = tmp_path / 'executed'
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': _Payload(marker)}, path)
    with pytest.raises(UntrustedCheckpointError) as info:
        load_checkpoint_file(path)
    message = str(info.value)
    assert f'{os.system.__module__}.system' in message
    assert f'--trust-checkpoint {path}' in message
    assert not marker.exists()
    # trusting through the environment variable, for this file only
    monkeypatch.setenv(ckpt.TRUSTED_ENV, str(tmp_path / 'other.pth'))
    with pytest.raises(UntrustedCheckpointError):
        load_checkpoint_file(path)
    monkeypatch.setenv(ckpt.TRUSTED_ENV, path)
    load_checkpoint_file(path)
    assert marker.exists()
    marker.unlink()
    monkeypatch.delenv(ckpt.TRUSTED_ENV)
    monkeypatch.setattr(ckpt, '_trusted_paths', set())
    trust_checkpoint(path)
    load_checkpoint_file(path)
    assert marker.exists()


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        load_checkpoint_file('/nonexistent/nowhere.pth')


def _local_loader(tmp_path):
    return CheckpointLoader._get_checkpoint_loader(str(tmp_path / 'x.pth'))


def test_mmengine_loader_is_replaced(tmp_path):
    import mmdl  # noqa: F401
    assert _local_loader(tmp_path) is load_checkpoint_file


def _loader_after_import(env_value):
    """The local loader of mmengine after ``import mmdl`` in a fresh
    interpreter, with ``MMDL_NO_CHECKPOINT_LOADER`` set to ``env_value``."""
    code = ('import mmdl\n'
            'from mmengine.runner import checkpoint as c\n'
            'loader = c.CheckpointLoader._get_checkpoint_loader("x.pth")\n'
            'print(loader.__module__ + "." + loader.__qualname__)\n')
    env = dict(os.environ)
    env.pop(ckpt.NO_LOADER_ENV, None)
    if env_value is not None:
        env[ckpt.NO_LOADER_ENV] = env_value
    result = subprocess.run([sys.executable, '-c', code],
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def test_environment_variable_keeps_mmengine_loader():
    assert _loader_after_import('1') == (
        'mmengine.runner.checkpoint.load_from_local')


def test_uninstall_restores_the_replaced_loader(tmp_path):

    def host_loader(filename, map_location=None):
        return {'host': filename}

    assert _local_loader(tmp_path) is load_checkpoint_file
    try:
        assert ckpt.uninstall_checkpoint_loader()
        assert _local_loader(tmp_path) is load_from_local
        assert not ckpt.uninstall_checkpoint_loader()  # nothing to undo
        # a host project's own loader, installed before mmdl's
        CheckpointLoader.register_scheme('', loader=host_loader, force=True)
        ckpt.install_checkpoint_loader()
        ckpt.install_checkpoint_loader()  # idempotent: remembers host_loader
        assert _local_loader(tmp_path) is load_checkpoint_file
        assert ckpt.uninstall_checkpoint_loader()
        assert _local_loader(tmp_path) is host_loader
    finally:
        CheckpointLoader.register_scheme(
            '', loader=load_from_local, force=True)
        ckpt.install_checkpoint_loader()
    assert _local_loader(tmp_path) is load_checkpoint_file


def test_first_use_is_logged_once(tmp_path, monkeypatch):
    path = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {}}, path)
    log_file = tmp_path / 'log.txt'
    logger = MMLogger.get_instance(
        f'test_checkpoint_log_{uuid.uuid4()}', log_file=str(log_file))
    monkeypatch.setattr(ckpt, '_announced_use', False)
    load_checkpoint_file(path)
    load_checkpoint_file(path)
    for handler in logger.handlers:
        handler.flush()
    text = log_file.read_text()
    assert text.count('load_checkpoint_file') == 1
    assert ckpt.NO_LOADER_ENV in text
    assert 'uninstall_checkpoint_loader' in text


def test_find_latest_checkpoint(tmp_path):
    assert find_latest_checkpoint(str(tmp_path)) is None
    for name in ('epoch_2.pth', 'epoch_10.pth', 'epoch_9.pth', 'best.pth'):
        (tmp_path / name).write_bytes(b'x')
    # no pointer: the largest epoch
    assert find_latest_checkpoint(str(tmp_path)).endswith('epoch_10.pth')
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text(str(tmp_path / 'epoch_9.pth'))
    assert find_latest_checkpoint(str(tmp_path)).endswith('epoch_9.pth')
    # truncated pointer (killed while writing it) or stale pointer
    pointer.write_text('')
    assert find_latest_checkpoint(str(tmp_path)).endswith('epoch_10.pth')
    pointer.write_text(str(tmp_path / 'epoch_99.pth'))
    assert find_latest_checkpoint(str(tmp_path)).endswith('epoch_10.pth')
