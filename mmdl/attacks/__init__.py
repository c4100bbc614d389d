# Copyright (c) mmdl contributors. All rights reserved.
"""Data-poisoning attacks on continual learning.

Task-targeted poisoning of a regularisation-based continual learner
(**Reconstruction** of Han et al., "Data Poisoning Attack Aiming the
Vulnerability of Continual Learning", ICIP 2023; their generation
procedure is not published, the choices below are mmdl's and
configurable).

Threat model:

* **Capability.** The attacker controls the *inputs* of the training data
  of the new task ``T``: an additive perturbation ``delta`` per sample with
  ``||delta||_inf <= eps`` in ``[0, 1]`` pixel space, ``x + delta`` kept in
  ``[0, 1]`` (and, on disk, uint8 values within ``floor(255 eps)`` levels
  of the clean ones). Labels are unchanged. A fraction ``rho`` (the poison
  ratio, default 1) of the task-``T`` samples is perturbed; the others are
  left bit-identical.
* **Knowledge.** The model after the previous tasks (``theta*``), the
  victim's regulariser with its state and hyperparameters (e.g. the EWC
  Fisher and anchor, the penalty weight) and the victim's training recipe
  (optimiser, learning rate, batch size, epochs; not its data order or
  seed); a small sample of the targeted earlier task ``k`` (a few hundred
  samples); task ``T``'s clean data.
* **Goal.** After the victim trains on the poisoned task ``T``, task
  ``k``'s accuracy collapses, while the other earlier tasks and task ``T``
  itself stay close to clean training (so that the attack is not noticed
  from the new task's accuracy).

Components:

* :class:`FunctionalVictim` (:mod:`.victim`): the victim's logits and
  regularised loss at arbitrary parameters through
  :func:`torch.func.functional_call` (regularisers included);
* :mod:`.objectives`: the unrolled and gradient-matching objectives;
* :mod:`.trajectory`: the victim's whole training replayed
  differentiably (its optimiser, batch-norm statistics), the default
  objective;
* :class:`ContinualPoisoner` (:mod:`.poisoner`, registered in
  :data:`~mmdl.registry.ATTACKS`): the generator;
* :mod:`.pixels`: uint8 images to ``[0, 1]`` tensors and the quantisation
  within the budget.

The poisoned data are written with
:func:`mmdl.datasets.continual.write_poisoned_task`, read by
:class:`~mmdl.datasets.PoisonedTaskDataset` and put in place of the task's
clean data by :class:`~mmdl.engine.hooks.TaskDataOverrideHook`;
``tools/attack/poison_continual.py`` runs the whole chain from a config and
a checkpoint.
"""
from .objectives import (OBJECTIVES, gradient_matching_objective,
                         target_ascent_direction, unrolled_objective,
                         unrolled_params)
from .pixels import (budget_levels, images_to_tensor, quantise_poison,
                     tensor_to_float_images)
from .poisoner import MODES, ContinualPoisoner, PoisonResult
from .trajectory import (TARGET_LOSSES, BatchNormTracker, VictimOptimizer,
                         epoch_batches, simulate_training, target_term,
                         trajectory_objective)
from .victim import (FunctionalVictim, LogitsCall, PenaltyCall,
                     functional_logits, normalisation)

__all__ = [
    'ContinualPoisoner', 'PoisonResult', 'MODES', 'OBJECTIVES',
    'FunctionalVictim', 'LogitsCall', 'PenaltyCall', 'functional_logits',
    'normalisation', 'unrolled_objective', 'unrolled_params',
    'gradient_matching_objective', 'target_ascent_direction',
    'images_to_tensor', 'tensor_to_float_images', 'quantise_poison',
    'budget_levels', 'VictimOptimizer', 'BatchNormTracker',
    'simulate_training', 'epoch_batches', 'target_term',
    'trajectory_objective', 'TARGET_LOSSES'
]
