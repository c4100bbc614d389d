# Copyright (c) mmdl contributors. All rights reserved.
"""Train one config per value of a knob and collect the source/target
accuracies of the final row of the accuracy matrix (trade-off curves).

Every finished run leaves ``sweep_point.json`` (config, options, accuracy
matrix) in its work dir; a sweep finds it and does not train that point
again when the config and options are the same, so an interrupted sweep
continues, and sweeps of different methods over one work dir (e.g. in
parallel) are combined by a last call with all of them.

**Reconstruction** of how a 2-task (source/target) criterion applies to
longer sequences: the source accuracy is the mean final accuracy of the
tasks before the last."""
import json
import os
import os.path as osp
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence

from mmdl.utils.config_checks import check_cfg_options


class SweepMethod(NamedTuple):
    """A method of a sweep: its config and knob.

    Attributes:
        name (str): Label of the curve.
        config (str): Config file (a task sequence).
        key (str, optional): Config key of the knob, dotted (list indices
            allowed: ``custom_hooks.0.penalty_weight``); None for a single
            point (e.g. fine-tuning).
        values (Sequence[float]): Values of the knob.
    """
    name: str
    config: str
    key: Optional[str] = None
    values: Sequence[float] = ()


def source_target(matrix: Sequence[Sequence[Optional[float]]]) -> tuple:
    """``(source, target)``: the mean final accuracy of the tasks before
    the last, and the final accuracy of the last task."""
    last = matrix[-1]
    if any(v is None for v in last):
        raise ValueError(f'the final row of the accuracy matrix is '
                         f'incomplete: {last}')
    return sum(last[:-1]) / (len(last) - 1), last[-1]


def train_and_measure(config: str, options: Dict, work_dir: str,
                      name: str) -> List[List[float]]:
    """Train ``config`` with ``options`` merged (in this process) and
    return the accuracy matrix."""
    from mmdl.utils.cli import build_runner, load_config
    cfg = load_config(config)
    check_cfg_options(cfg, options)
    cfg.merge_from_dict(options)
    cfg.work_dir = work_dir
    cfg.experiment_name = name
    runner = build_runner(cfg)
    runner.train()
    return runner.train_loop.accuracy_matrix


def run_sweep(methods: Sequence[SweepMethod],
              work_dir: str,
              options: Optional[Dict] = None,
              on_point: Optional[Callable[[], None]] = None) -> dict:
    """Every method at every value of its knob.

    Args:
        methods (Sequence[SweepMethod]): The methods.
        work_dir (str): Runs go to ``<work_dir>/<name>_<index>``.
        options (dict, optional): Config options for every run.
        on_point (callable, optional): Called after every run (progress).

    Returns:
        dict: Method name to ``config``, ``key`` and ``points`` (``value``,
        ``source``, ``target``, ``matrix``).
    """
    curves = {}
    for method in methods:
        values = list(method.values) if method.key else [None]
        points = []
        for index, value in enumerate(values):
            run_options = dict(options or {})
            if method.key:
                run_options[method.key] = value
            name = f'{method.name}_{index}'
            run_dir = osp.join(work_dir, name)
            record = dict(config=osp.abspath(method.config),
                          options=run_options)
            matrix = _finished(run_dir, record)
            if matrix is None:
                matrix = train_and_measure(method.config, run_options,
                                           run_dir, name)
                _save(run_dir, dict(record, matrix=matrix))
            source, target = source_target(matrix)
            points.append(
                dict(value=value, source=source, target=target,
                     matrix=matrix))
            if on_point is not None:
                on_point()
        curves[method.name] = dict(
            config=method.config, key=method.key, points=points)
    return curves


#: Record of a finished point in its work dir.
POINT_FILE = 'sweep_point.json'


def _finished(run_dir: str, record: dict) -> Optional[list]:
    """The accuracy matrix of a finished run of the same config and
    options, None otherwise."""
    path = osp.join(run_dir, POINT_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        saved = json.load(f)
    same = (saved.get('config') == record['config']
            and saved.get('options') == json.loads(
                json.dumps(record['options'])))
    return saved['matrix'] if same else None


def _save(run_dir: str, record: dict) -> None:
    os.makedirs(run_dir, exist_ok=True)
    tmp = osp.join(run_dir, POINT_FILE + '.tmp')
    with open(tmp, 'w') as f:
        json.dump(record, f, indent=2)
    os.replace(tmp, osp.join(run_dir, POINT_FILE))
