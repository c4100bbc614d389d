# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl's runner: mmengine's ``Runner`` made to work on CPU-only machines,
with torch >= 2.6 checkpoints and with models that own their
``train_step``."""
import contextlib
import copy
import os
import os.path as osp
from typing import Callable, Dict, Iterator, Optional, Union

import torch
from mmengine.dist import is_distributed, master_only
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.model import BaseModel, is_model_wrapper
from mmengine.runner import BaseLoop, Runner
from mmengine.runner.checkpoint import (_load_checkpoint,
                                        _load_checkpoint_to_model)
from torch import nn
from torch.utils.data import DataLoader

from mmdl.engine.loops import TaskSequenceTrainLoop
from mmdl.registry import MODEL_WRAPPERS, RUNNERS
from mmdl.utils.config_checks import ConfigError
from .checkpoint import find_latest_checkpoint, message_hub_to_plain
from .sharded_state import (full_shapes, gather_checkpoint_state,
                            put_full_state, slice_optimizer_state)
from .state_match import (FINGERPRINT_KEY, CheckpointMismatchError,
                          checkpoint_state_dict, compare_state_dicts,
                          model_fingerprint)

#: Wrapper used in distributed runs for models that override
#: ``BaseModel.train_step`` (mmengine's default DDP wrapper would bypass it).
DELEGATING_WRAPPER = 'DelegatingDistributedDataParallel'


@contextlib.contextmanager
def _no_cuda_set_device() -> Iterator[None]:
    """Make ``torch.cuda.set_device`` a no-op while CUDA is unavailable.

    mmengine 0.10.7's ``pytorch`` and ``slurm`` launchers call it
    unconditionally before ``init_process_group``.
    """
    original = torch.cuda.set_device
    torch.cuda.set_device = lambda device: None
    try:
        yield
    finally:
        torch.cuda.set_device = original


def overrides_train_step(model: nn.Module) -> bool:
    """Whether ``model`` implements its own ``BaseModel.train_step``."""
    return (isinstance(model, BaseModel)
            and type(model).train_step is not BaseModel.train_step)


@RUNNERS.register_module()
class MMDLRunner(Runner):
    """``mmengine.runner.Runner`` with the fixes mmdl relies on.

    Differences from mmengine 0.10.7's runner, all transparent to configs:

    * **CPU distributed.** Without CUDA, a distributed launch uses the
      ``gloo`` backend (when ``env_cfg.dist_cfg.backend`` is the default
      ``nccl``), skips ``torch.cuda.set_device`` and wraps the model without
      ``device_ids``.
    * **Own ``train_step``.** In a distributed run, a model that overrides
      ``BaseModel.train_step`` and has no ``model_wrapper_cfg`` is wrapped in
      :class:`~mmdl.models.DelegatingDistributedDataParallel`, which calls
      that ``train_step`` (mmengine's default wrapper silently does not).
    * **Checkpoints.** Local checkpoints are written to a temporary file and
      renamed, so a kill while saving never leaves a truncated file; the
      message hub is stored as plain data so that loading works with
      ``weights_only=True`` (see :mod:`mmdl.engine.runner.checkpoint`);
      ``resume=True`` without a path falls back to the newest
      ``epoch_N.pth``/``iter_N.pth`` when the ``last_checkpoint`` pointer is
      unusable; a :class:`~mmdl.engine.loops.TaskSequenceTrainLoop` gets the
      resumed epoch before mmengine reads ``train_dataloader``.

    Read-only accessors for loops and hooks: :attr:`randomness_cfg`,
    :attr:`val_dataloader_cfg` and :attr:`val_loop_built`;
    :meth:`set_val_dataloader_cfg` changes the validation dataloader config
    before the validation loop is built.
    """

    #: Whether :meth:`resume` is running (for :meth:`load_checkpoint`).
    _resuming = False
    _loaded_meta: Optional[dict] = None
    #: What :meth:`setup_env` chose, logged once the logger exists.
    _env_notes: tuple = ()

    @property
    def randomness_cfg(self) -> dict:
        """dict: A copy of the ``randomness`` settings (``seed``,
        ``diff_rank_seed``, ``deterministic``), with the seed restored by
        :meth:`resume`."""
        return copy.deepcopy(dict(self._randomness_cfg))

    @property
    def val_dataloader_cfg(self) -> Union[dict, DataLoader, None]:
        """dict | DataLoader | None: The ``val_dataloader`` the runner was
        given (a copy of the config dict), from which its validation loop
        is built."""
        loader = self._val_dataloader
        return copy.deepcopy(loader) if isinstance(loader, dict) else loader

    @property
    def val_loop_built(self) -> bool:
        """bool: Whether the validation loop is built (``runner.val_loop``
        builds it on first access)."""
        return isinstance(self._val_loop, BaseLoop)

    def set_val_dataloader_cfg(self, cfg: dict) -> None:
        """Replace the ``val_dataloader`` config of the validation loop.

        Args:
            cfg (dict): The new config.

        Raises:
            RuntimeError: The validation loop is already built.
        """
        if self.val_loop_built:
            raise RuntimeError('the validation loop is already built from '
                               'the previous val_dataloader config')
        self._val_dataloader = copy.deepcopy(cfg)

    def setup_env(self, env_cfg: Dict) -> None:
        """Set up the environment: torch's intra-op threads from
        ``env_cfg.num_threads`` (None: torch's default) and, for a
        distributed run on a machine without CUDA, the gloo backend instead
        of nccl (the config is changed accordingly, so its dump shows the
        backend used). Both are logged.

        Args:
            env_cfg (dict): The ``env_cfg`` of the config.
        """
        env_cfg = copy.deepcopy(dict(env_cfg))
        threads = env_cfg.pop('num_threads', None)
        if threads is not None:
            torch.set_num_threads(int(threads))
        self._env_notes = [
            f'torch intra-op threads: {torch.get_num_threads()} (' +
            ('env_cfg.num_threads / --threads' if threads is not None else
             "torch's default; set env_cfg.num_threads or --threads") + ')'
        ]
        if (self.distributed and not is_distributed()
                and not torch.cuda.is_available()):
            dist_cfg = env_cfg.setdefault('dist_cfg', {})
            if dist_cfg.get('backend', 'nccl') == 'nccl':
                dist_cfg['backend'] = 'gloo'
                self.cfg.setdefault('env_cfg', {})
                self.cfg.env_cfg.setdefault('dist_cfg', {})
                self.cfg.env_cfg.dist_cfg.backend = 'gloo'
                self._env_notes.append(
                    'no CUDA device: distributed backend nccl replaced by '
                    'gloo')
            with _no_cuda_set_device():
                super().setup_env(env_cfg)
        else:
            super().setup_env(env_cfg)

    def build_logger(self,
                     log_level: Union[int, str] = 'INFO',
                     log_file: Optional[str] = None,
                     **kwargs):
        """Build the logger (see ``mmengine.runner.Runner.build_logger``)
        and log what :meth:`setup_env` chose."""
        logger = super().build_logger(log_level, log_file, **kwargs)
        for note in self._env_notes:
            logger.info(note)
        return logger

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: nn.Module) -> nn.Module:
        """Wrap the model for distributed training.

        Args:
            model_wrapper_cfg (dict, optional): Config of the wrapper.
            model (nn.Module): The model.

        Returns:
            nn.Module: The (possibly wrapped) model.
        """
        if self.distributed and not is_model_wrapper(model):
            if model_wrapper_cfg is None:
                model_wrapper_cfg = dict(
                    type='MMDistributedDataParallel',
                    broadcast_buffers=False,
                    find_unused_parameters=self.cfg.get(
                        'find_unused_parameters', False))
                if overrides_train_step(model):
                    model_wrapper_cfg['type'] = DELEGATING_WRAPPER
            model_wrapper_cfg = copy.deepcopy(dict(model_wrapper_cfg))
            wrapper_type = model_wrapper_cfg.get('type',
                                                 'MMDistributedDataParallel')
            # mmengine builds the wrapper from its root registry, which only
            # sees mmdl's wrappers with the scope prefix.
            if (isinstance(wrapper_type, str) and '.' not in wrapper_type
                    and wrapper_type in MODEL_WRAPPERS.module_dict):
                model_wrapper_cfg['type'] = f'mmdl.{wrapper_type}'
            if not torch.cuda.is_available():
                model_wrapper_cfg.setdefault('device_ids', None)
            if (overrides_train_step(model)
                    and 'Delegating' not in str(model_wrapper_cfg['type'])):
                self.logger.warning(
                    f'{type(model).__name__} overrides train_step but is '
                    f'wrapped in {model_wrapper_cfg["type"]}; make sure that '
                    'wrapper calls it.')
        return super().wrap_model(model_wrapper_cfg, model)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        """Call hooks; convert the message hub to plain data after the
        ``before_save_checkpoint`` hooks have run.

        Args:
            fn_name (str): The hook method.
            **kwargs: Arguments of the hook method.
        """
        super().call_hook(fn_name, **kwargs)
        if fn_name == 'before_save_checkpoint':
            checkpoint = kwargs['checkpoint']
            checkpoint['message_hub'] = message_hub_to_plain(
                checkpoint['message_hub'])
            put_full_state(checkpoint, getattr(self, '_gathered_state', {}))

    def save_checkpoint(self, out_dir: str, filename: str, *args,
                        **kwargs) -> None:
        """Save a checkpoint; atomically (temporary file, then rename) for
        local directories. ``meta`` gains the model fingerprint and, for a
        task sequence, the loop's :meth:`checkpoint_meta`.

        Called on every rank (mmengine's checkpoint hook does): parameters
        sharded across ranks and their optimiser state are gathered first,
        so that rank 0 writes the full matrices (see
        :mod:`~mmdl.engine.runner.sharded_state`).

        Args are those of ``mmengine.runner.Runner.save_checkpoint``.
        """
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        save_optimizer = args[1] if len(args) > 1 else kwargs.get(
            'save_optimizer', True)
        optim = getattr(self, 'optim_wrapper', None) if save_optimizer \
            else None
        self._gathered_state = gather_checkpoint_state(model, optim)
        try:
            self._save_checkpoint_on_master(out_dir, filename, *args,
                                            **kwargs)
        finally:
            self._gathered_state = {}

    @master_only
    def _save_checkpoint_on_master(self,
                                   out_dir: str,
                                   filename: str,
                                   file_client_args: Optional[dict] = None,
                                   save_optimizer: bool = True,
                                   save_param_scheduler: bool = True,
                                   meta: Optional[dict] = None,
                                   by_epoch: bool = True,
                                   backend_args: Optional[dict] = None
                                   ) -> None:
        meta = dict(meta or {})
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        meta[FINGERPRINT_KEY] = model_fingerprint(model, full_shapes(model))
        if isinstance(self.train_loop, TaskSequenceTrainLoop):
            meta.update(self.train_loop.checkpoint_meta())
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        local = file_client_args is None and isinstance(
            get_file_backend(out_dir, backend_args=backend_args), LocalBackend)
        if not local:
            super().save_checkpoint(out_dir, filename, **kwargs)
            return
        tmp_name = f'.{filename}.tmp{os.getpid()}'
        try:
            super().save_checkpoint(out_dir, tmp_name, **kwargs)
            os.replace(
                osp.join(out_dir, tmp_name), osp.join(out_dir, filename))
        finally:
            if osp.exists(osp.join(out_dir, tmp_name)):
                os.remove(osp.join(out_dir, tmp_name))

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, Callable] = 'default') -> None:
        """Resume training from a checkpoint (see
        ``mmengine.runner.Runner.resume``).

        A :class:`~mmdl.engine.loops.TaskSequenceTrainLoop` switches to the
        training loader of the resumed task as soon as the checkpoint is
        loaded, so that mmengine compares the checkpoint's dataset meta with
        that task's dataset.
        """
        self._resuming = True
        try:
            super().resume(filename, resume_optimizer, resume_param_scheduler,
                           map_location)
        finally:
            self._resuming = False

    @property
    def load_strict(self) -> bool:
        """bool: Whether a checkpoint must match the model exactly (config
        field ``load_strict``, default True; ``--non-strict`` of the tools
        sets it to False)."""
        return bool(self.cfg.get('load_strict', True))

    @property
    def loaded_checkpoint_meta(self) -> Optional[dict]:
        """dict | None: A copy of the ``meta`` of the checkpoint loaded
        last (``load_from``, ``--resume`` or ``tools/test.py``)."""
        return copy.deepcopy(self._loaded_meta)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: Optional[bool] = None,
                        revise_keys: list = [(r'^module.', '')]) -> dict:
        """Load a checkpoint into the model (see
        ``mmengine.runner.Runner.load_checkpoint``), checking first that it
        fits.

        Before any hook or weight sees the checkpoint, its state dict is
        compared with the model's. A mismatch (missing or unexpected keys,
        other shapes) raises :class:`CheckpointMismatchError` unless
        ``strict`` is False (then the matching keys are loaded and the rest
        is logged). Resuming also compares the model fingerprint stored in
        the checkpoint (an old checkpoint without one gets a warning) and,
        for a :class:`~mmdl.engine.loops.TaskSequenceTrainLoop`, lets the
        loop check the task sequence and switch to the resumed task.

        Args:
            filename (str): The checkpoint.
            map_location (str | callable): As for ``torch.load``.
            strict (bool, optional): Refuse a mismatch. Defaults to None:
                :attr:`load_strict`; resuming is always strict.
            revise_keys (list): ``(pattern, replacement)`` pairs applied to
                the checkpoint's keys.

        Returns:
            dict: The checkpoint.
        """
        strict = self.load_strict if strict is None else strict
        checkpoint = _load_checkpoint(filename, map_location=map_location)
        if not isinstance(checkpoint, dict):
            raise ConfigError(f"checkpoint '{filename}': expected a dict, "
                              f'got a {type(checkpoint).__name__}')
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        meta = checkpoint.get('meta') or {}
        shapes = full_shapes(model)
        model_state = {
            k: (torch.empty(shapes[k], device='meta') if k in shapes else v)
            for k, v in model.state_dict().items()
        }
        mismatch = compare_state_dicts(
            model_state, checkpoint_state_dict(checkpoint, revise_keys))
        config = osp.basename(self.cfg.filename or '')
        if self._resuming:
            saved = meta.get(FINGERPRINT_KEY)
            if saved is None:
                self.logger.warning(
                    f'{filename} has no model fingerprint (written before '
                    'mmdl stored one); only its keys and shapes are '
                    'checked.')
            if mismatch or (saved is not None
                            and saved != model_fingerprint(model, shapes)):
                raise CheckpointMismatchError(
                    filename, mismatch, type(model).__name__, config,
                    'resume refused, nothing was loaded',
                    'it was written for another model')
            if isinstance(self.train_loop, TaskSequenceTrainLoop):
                self.train_loop.check_resumable(meta, filename)
            slice_optimizer_state(checkpoint, model, self.optim_wrapper)
        elif mismatch and strict:
            raise CheckpointMismatchError(
                filename, mismatch, type(model).__name__, config,
                'nothing was loaded',
                'pass --non-strict (config load_strict=False) to load the '
                'matching keys only')
        elif mismatch:
            self.logger.warning(
                f'Loading {filename} non-strictly (load_strict=False): '
                f'{mismatch.counts()} not loaded.\n' +
                '\n'.join(mismatch.lines()))
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        checkpoint = _load_checkpoint_to_model(
            model, checkpoint, strict=False, revise_keys=revise_keys)
        self._has_loaded = True
        self._loaded_meta = copy.deepcopy(meta)
        self.logger.info(f'Load checkpoint from {filename}')
        if self._resuming and isinstance(self.train_loop,
                                         TaskSequenceTrainLoop):
            self.train_loop.prepare_resume(checkpoint['meta']['epoch'])
        return checkpoint

    def load_or_resume(self) -> None:
        """Load or resume; ``resume=True`` without ``load_from`` picks the
        latest checkpoint of the work dir (see
        :func:`~mmdl.engine.runner.checkpoint.find_latest_checkpoint`)."""
        if not self._has_loaded and self._resume and self._load_from is None:
            latest = find_latest_checkpoint(self.work_dir)
            if latest is None:
                self.logger.info(f'No checkpoint found in {self.work_dir}; '
                                 'training starts from scratch.')
                self._resume = False
            else:
                self._load_from = latest
        super().load_or_resume()
