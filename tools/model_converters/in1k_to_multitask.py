# Copyright (c) mmdl contributors. All rights reserved.
"""Make an ImageNet classifier checkpoint loadable by a model with mmdl's
``MultiTaskLinearClsHead``, its classifier becoming one task's.

mmpretrain's ImageNet checkpoints (``ImageClassifier`` with
``LinearClsHead``, e.g. ``resnet50_8xb32_in1k``) name the classifier
``head.fc.weight`` / ``head.fc.bias``; ``MultiTaskLinearClsHead`` has one
``nn.Linear`` per task, ``head.fcs.<t>.weight`` / ``head.fcs.<t>.bias``.
Given to ``load_from`` unchanged, such a checkpoint loads the backbone but
not the classifier (mmengine loads non-strictly and only warns about the
missing and unexpected keys), and the ImageNet task would be evaluated
with a randomly initialised classifier. This script renames ``head.fc.*``
to ``head.fcs.<task>.*`` (task 0 by default) and keeps every other tensor::

    python tools/model_converters/in1k_to_multitask.py \\
        checkpoints/resnet50_8xb32_in1k_20210831-ea4938fc.pth \\
        checkpoints/resnet50_8xb32_in1k_multi-task.pth

The output holds ``state_dict`` and a small ``meta`` (nothing of the
optimiser or the message hub), which is all ``load_from`` needs. The input
is read with mmdl's allow-listed ``torch.load(weights_only=True)``; pass
``--trust-checkpoint`` only for a file whose origin you trust if it holds
other Python objects.
"""
import argparse
import os
import os.path as osp
from collections import OrderedDict
from typing import Dict, Mapping

import torch

SRC_PREFIX = 'head.fc.'
DST_PREFIX = 'head.fcs.{task}.'


def convert_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        task: int = 0,
        src_prefix: str = SRC_PREFIX,
        dst_prefix: str = DST_PREFIX) -> Dict[str, torch.Tensor]:
    """Rename the single-head classifier keys to the keys of one task's
    classifier.

    Args:
        state_dict (Mapping[str, Tensor]): The source state dict (keys may
            start with ``module.``, which is kept: mmengine strips it when
            loading).
        task (int): The task whose classifier receives the weights.
            Defaults to 0.
        src_prefix (str): Prefix of the source classifier keys (after an
            optional ``module.``). Defaults to ``'head.fc.'``.
        dst_prefix (str): Prefix of the target keys; ``{task}`` is replaced
            by ``task``. Defaults to ``'head.fcs.{task}.'``.

    Returns:
        dict[str, Tensor]: A new ordered dict with the keys renamed.

    Raises:
        KeyError: If no key starts with ``src_prefix`` or the state dict
            already has keys starting with the target prefix.
    """
    if task < 0:
        raise ValueError(f'task must be >= 0, got {task}')
    dst_prefix = dst_prefix.format(task=task)
    target_head = dst_prefix.rsplit('.', 2)[0] + '.'  # 'head.fcs.'

    def strip(key: str) -> str:
        return key[len('module.'):] if key.startswith('module.') else key

    if any(strip(k).startswith(target_head) for k in state_dict):
        raise KeyError(f'the checkpoint already has {target_head}* keys: '
                       'converted before, or not a single-head classifier')
    converted = OrderedDict()
    renamed = 0
    for key, value in state_dict.items():
        bare = strip(key)
        if bare.startswith(src_prefix):
            key = key[:len(key) - len(bare)] + dst_prefix + \
                bare[len(src_prefix):]
            renamed += 1
        converted[key] = value
    if not renamed:
        raise KeyError(f'no key starts with {src_prefix!r}; is this an '
                       'mmpretrain ImageClassifier checkpoint with a '
                       'LinearClsHead?')
    return converted


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Rename an ImageNet checkpoint\'s classifier (head.fc.*) '
        "to one task's classifier of MultiTaskLinearClsHead "
        '(head.fcs.<task>.*)')
    parser.add_argument('src', help='source checkpoint (local file)')
    parser.add_argument('dst', help='converted checkpoint to write')
    parser.add_argument(
        '--task',
        type=int,
        default=0,
        help='task index of the classifier (default: 0)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle SRC without mmdl\'s allow-list (only for a file '
        'from a source you trust)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mmdl.engine.runner import load_checkpoint_file, trust_checkpoint
    if args.trust_checkpoint:
        trust_checkpoint(args.src)
    checkpoint = load_checkpoint_file(args.src, map_location='cpu')
    if isinstance(checkpoint, Mapping) and 'state_dict' in checkpoint:
        state_dict = checkpoint['state_dict']
    elif isinstance(checkpoint, Mapping) and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        state_dict = checkpoint  # a bare state dict
    else:
        raise SystemExit(f'{args.src}: no state_dict found')
    try:
        state_dict = convert_state_dict(state_dict, task=args.task)
    except KeyError as error:
        raise SystemExit(f'{args.src}: {error.args[0]}') from None
    meta = dict(
        converted_from=osp.basename(args.src),
        converter='tools/model_converters/in1k_to_multitask.py',
        task=args.task)
    if osp.dirname(args.dst):
        os.makedirs(osp.dirname(args.dst), exist_ok=True)
    torch.save(dict(state_dict=state_dict, meta=meta), args.dst)
    head = DST_PREFIX.format(task=args.task)
    print(f'{args.dst}: {len(state_dict)} tensors, {SRC_PREFIX}* -> '
          f'{head}*')


if __name__ == '__main__':
    main()
