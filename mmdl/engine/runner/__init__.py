# Copyright (c) mmdl contributors. All rights reserved.
from .checkpoint import (UntrustedCheckpointError, checkpoint_allowlist,
                         find_latest_checkpoint, install_checkpoint_loader,
                         is_trusted_checkpoint, load_checkpoint_file,
                         message_hub_from_plain, message_hub_to_plain,
                         trust_checkpoint)
from .runner import MMDLRunner, overrides_train_step

__all__ = [
    'MMDLRunner', 'UntrustedCheckpointError', 'checkpoint_allowlist',
    'find_latest_checkpoint', 'install_checkpoint_loader',
    'is_trusted_checkpoint', 'load_checkpoint_file', 'message_hub_from_plain',
    'message_hub_to_plain', 'overrides_train_step', 'trust_checkpoint'
]
