# Copyright (c) mmdl contributors. All rights reserved.
"""Does a checkpoint fit a model? Key comparison and model fingerprints.

mmengine loads checkpoints with ``strict=False`` and reports a mismatch
as a warning deep in the log, so a wrong checkpoint evaluates a model
that was never loaded. :class:`~mmdl.engine.MMDLRunner` compares the
checkpoint's state dict with the model's before loading it
(:func:`compare_state_dicts`) and refuses a mismatch unless loading
non-strictly was asked for; resuming also compares the
:func:`model_fingerprint` stored in the checkpoint's ``meta``.
"""
import hashlib
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

from torch import nn

from mmdl.utils.config_checks import ConfigError

#: ``meta`` key of the fingerprint in checkpoints written by MMDLRunner.
FINGERPRINT_KEY = 'mmdl_model_fingerprint'
#: How many names each category of a mismatch lists.
SHOWN_NAMES = 3


def model_fingerprint(model: nn.Module,
                      shapes: Optional[Mapping[str, tuple]] = None) -> str:
    """A short hash of the names and shapes of the model's state dict
    (parameters and buffers), independent of their values.

    Args:
        model (nn.Module): The unwrapped model.
        shapes (Mapping[str, tuple], optional): Shapes to use instead of
            the state's for some names (the full shapes of parameters
            sharded across ranks, as checkpoints hold them).

    Returns:
        str: 16 hexadecimal digits.
    """
    shapes = shapes or {}
    text = '\n'.join(
        f'{name}:{tuple(shapes.get(name, value.shape))}'
        for name, value in sorted(model.state_dict().items()))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def checkpoint_state_dict(
        checkpoint: Mapping,
        revise_keys: Sequence[Tuple[str, str]] = ()) -> Dict:
    """The model state of a checkpoint, keys revised as mmengine does
    (``revise_keys``: ``(pattern, replacement)`` pairs applied in order)."""
    state = checkpoint.get('state_dict', checkpoint)
    for pattern, replacement in revise_keys:
        state = {re.sub(pattern, replacement, k): v for k, v in state.items()}
    return dict(state)


@dataclass
class StateMismatch:
    """How a checkpoint's state dict differs from a model's.

    Attributes:
        missing (list[str]): Model keys the checkpoint lacks.
        unexpected (list[str]): Checkpoint keys the model lacks.
        shapes (list[tuple]): ``(key, checkpoint shape, model shape)``.
    """

    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    shapes: List[Tuple[str, tuple, tuple]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.shapes)

    def counts(self) -> str:
        """``'2 missing keys, 1 unexpected key, 0 shape mismatches'``."""
        def count(n, word, plural):
            return f'{n} {word if n == 1 else plural}'
        return ', '.join([
            count(len(self.missing), 'missing key', 'missing keys'),
            count(len(self.unexpected), 'unexpected key', 'unexpected keys'),
            count(len(self.shapes), 'shape mismatch', 'shape mismatches')
        ])

    def lines(self) -> List[str]:
        """One line per non-empty category, with its first names."""
        def names(items):
            shown = ', '.join(items[:SHOWN_NAMES])
            more = len(items) - SHOWN_NAMES
            return shown + (f', ... (+{more} more)' if more > 0 else '')
        lines = []
        if self.missing:
            lines.append(f'  missing keys ({len(self.missing)}): '
                         f'{names(self.missing)}')
        if self.unexpected:
            lines.append(f'  unexpected keys ({len(self.unexpected)}): '
                         f'{names(self.unexpected)}')
        if self.shapes:
            lines.append(f'  shape mismatches ({len(self.shapes)}): ' + names([
                f'{key} (checkpoint {list(a)}, model {list(b)})'
                for key, a, b in self.shapes
            ]))
        return lines


def compare_state_dicts(model_state: Mapping,
                        checkpoint_state: Mapping) -> StateMismatch:
    """Compare key sets and shapes of two state dicts.

    Args:
        model_state (Mapping): ``model.state_dict()``.
        checkpoint_state (Mapping): The checkpoint's (revised) state dict.

    Returns:
        StateMismatch: Empty (falsy) when every key and shape matches.
    """
    mismatch = StateMismatch(
        missing=[k for k in model_state if k not in checkpoint_state],
        unexpected=[k for k in checkpoint_state if k not in model_state])
    for key, value in checkpoint_state.items():
        if key in model_state and hasattr(value, 'shape') and tuple(
                value.shape) != tuple(model_state[key].shape):
            mismatch.shapes.append(
                (key, tuple(value.shape), tuple(model_state[key].shape)))
    return mismatch


class CheckpointMismatchError(ConfigError):
    """A checkpoint does not fit the model; the message lists one line per
    kind of mismatch and ends with a line naming the file."""

    def __init__(self, filename: str, mismatch: StateMismatch, model: str,
                 config: str, action: str, hint: str) -> None:
        where = f'model {model}' + (f' of config {config}' if config else '')
        super().__init__('\n'.join(mismatch.lines() + [
            f"checkpoint '{filename}' does not match the {where} "
            f'({mismatch.counts()}): {action}; {hint}'
        ]))


def check_checkpoint_fits(cfg: Mapping) -> None:
    """Pre-flight of the tools: refuse a checkpoint that does not fit the
    config's model before the runner is built (and dumps its config).

    The checkpoint is ``load_from``, or with ``resume=True`` and no
    ``load_from`` the work dir's latest. Nothing is checked for URLs, for
    ``load_strict=False`` (unless resuming), or when there is no
    checkpoint. :meth:`MMDLRunner.load_checkpoint` checks again.

    Args:
        cfg (Mapping): The merged config.

    Raises:
        CheckpointMismatchError: The keys, shapes or (when resuming) the
            model fingerprint differ.
    """
    from mmengine.registry import MODELS, DefaultScope
    from mmengine.runner.checkpoint import _load_checkpoint

    from .checkpoint import find_latest_checkpoint
    resume = bool(cfg.get('resume'))
    path = cfg.get('load_from')
    if resume and not path and cfg.get('work_dir'):
        path = find_latest_checkpoint(cfg['work_dir'])
    if not path or '://' in str(path) or not (resume or cfg.get(
            'load_strict', True)):
        return
    checkpoint = _load_checkpoint(path, map_location='cpu')
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model = MODELS.build(cfg['model'])
    mismatch = compare_state_dicts(
        model.state_dict(),
        checkpoint_state_dict(checkpoint, [(r'^module.', '')]))
    meta = checkpoint.get('meta') or {}
    saved = meta.get(FINGERPRINT_KEY)
    foreign = resume and saved is not None and saved != model_fingerprint(
        model)
    if mismatch or foreign:
        filename = getattr(cfg, 'filename', None) or ''
        raise CheckpointMismatchError(
            path, mismatch, type(model).__name__, osp.basename(filename),
            *(('resume refused, nothing was loaded',
               'it was written for another model') if resume else
              ('nothing was loaded', 'pass --non-strict (config '
               'load_strict=False) to load the matching keys only')))
