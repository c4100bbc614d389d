# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl's registries: one child node per mmengine root registry.

Every node is parented on **mmengine's root registries**, not on
mmpretrain's (``REGULARIZERS`` and ``ATTACKS``, which have no mmengine
root, are roots themselves), and declares ``locations`` so that
``default_scope='mmdl'`` imports the implementing sub-package lazily on
first lookup (``mmdl`` is not in mmengine's ``MODULE2PACKAGE`` table, so
``locations`` is the only automatic registration path).

Why mmengine roots and not mmpretrain's registries:

* mmdl components are meant to be used from *any* OpenMMLab project
  (mmpretrain, mmdet, mmseg). A prefixed lookup such as ``type='mmdl.X'``
  from another scope is routed through the root registry, which only finds
  scopes that are its direct children. Parented on mmpretrain, the ``mmdl``
  node would be a grandchild of the root and invisible from mmdet or mmseg
  configs.
* mmpretrain stays an ordinary dependency rather than an import-time
  requirement of the registry tree.

The price is that mmdl configs reach mmpretrain components (which are
siblings) explicitly: either with the ``mmpretrain.`` prefix
(``type='mmpretrain.PackInputs'``) or, for components that build children
themselves (``ImageClassifier`` builds its backbone and head), with
``_scope_='mmpretrain'`` so that the children are looked up in mmpretrain's
scope. mmrazor configs follow the same convention.

Conversely, a config of another project uses mmdl components as
``type='mmdl.X'`` after ``custom_imports=dict(imports=['mmdl'])``; if ``X``
builds mmdl children, add ``_scope_='mmdl'``.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import \
    RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'RUNNER_CONSTRUCTORS', 'LOOPS', 'HOOKS', 'LOG_PROCESSORS',
    'OPTIMIZERS', 'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
    'PARAM_SCHEDULERS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS', 'MODELS',
    'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'TASK_UTILS', 'METRICS',
    'EVALUATORS', 'VISUALIZERS', 'VISBACKENDS', 'INFERENCERS', 'FUNCTIONS',
    'REGULARIZERS', 'ATTACKS'
]

#######################################################################
#                            mmdl.engine                              #
#######################################################################

# Runners like `MMDLRunner`.
RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, locations=['mmdl.engine'])
# Runner constructors.
RUNNER_CONSTRUCTORS = Registry(
    'runner constructor',
    parent=MMENGINE_RUNNER_CONSTRUCTORS,
    locations=['mmdl.engine'])
# Loops which define the training or test process, like task sequences.
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, locations=['mmdl.engine'])
# Hooks to add additional functions during running, like `KFACBNHook`.
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['mmdl.engine'])
# Log processors.
LOG_PROCESSORS = Registry(
    'log processor', parent=MMENGINE_LOG_PROCESSORS, locations=['mmdl.engine'])
# Optimizers to optimize the model weights.
OPTIMIZERS = Registry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, locations=['mmdl.engine'])
# Optimizer wrappers.
OPTIM_WRAPPERS = Registry(
    'optimizer_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    locations=['mmdl.engine'])
# Optimizer wrapper constructors (e.g. one wrapper per sub-module).
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['mmdl.engine'])
# Parameter schedulers.
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    locations=['mmdl.engine'])

#######################################################################
#                           mmdl.datasets                             #
#######################################################################

# Datasets like `DigitsDataset`.
DATASETS = Registry(
    'dataset', parent=MMENGINE_DATASETS, locations=['mmdl.datasets'])
# Samplers of datasets.
DATA_SAMPLERS = Registry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['mmdl.datasets'])
# Data transforms of pipelines.
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['mmdl.datasets'])

#######################################################################
#                            mmdl.models                              #
#######################################################################

# Neural network modules: backbones, necks, heads, losses, plugins.
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['mmdl.models'])
# Model wrappers like `DelegatingDistributedDataParallel`.
MODEL_WRAPPERS = Registry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['mmdl.models'])
# Weight initialisation methods.
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    locations=['mmdl.models'])
# Task-specific modules like samplers and coders.
TASK_UTILS = Registry(
    'task util', parent=MMENGINE_TASK_UTILS, locations=['mmdl.models'])

#######################################################################
#                          mmdl.evaluation                            #
#######################################################################

# Metrics to evaluate model predictions.
METRICS = Registry(
    'metric', parent=MMENGINE_METRICS, locations=['mmdl.evaluation'])
# Evaluators, which wrap a list of metrics (mmengine's root is `EVALUATOR`).
EVALUATORS = Registry(
    'evaluator', parent=MMENGINE_EVALUATOR, locations=['mmdl.evaluation'])

#######################################################################
#                         mmdl.visualization                          #
#######################################################################

# Visualizers to display task-specific results.
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    locations=['mmdl.visualization'])
# Backends that store the visualised results.
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    locations=['mmdl.visualization'])

#######################################################################
#                               mmdl.apis                             #
#######################################################################

# Inferencers.
INFERENCERS = Registry(
    'inferencer', parent=MMENGINE_INFERENCERS, locations=['mmdl.engine'])
# Plain functions referenced from configs (e.g. collate functions).
FUNCTIONS = Registry(
    'function', parent=MMENGINE_FUNCTIONS, locations=['mmdl.datasets'])

#######################################################################
#                           mmdl.continual                            #
#######################################################################

# Continual-learning regularisers like `XKFACRegularizer`, built by hooks
# such as `RegularizerHook`. mmengine has no root registry of this kind, so
# this node is the root of its tree (scope 'mmdl'); another project may
# parent its own node on it. From another default scope, name the
# components `mmdl.X`.
REGULARIZERS = Registry(
    'regularizer', scope='mmdl', locations=['mmdl.continual.regularizers'])

#######################################################################
#                            mmdl.attacks                             #
#######################################################################

# Data-poisoning generators like `ContinualPoisoner`. Like REGULARIZERS,
# mmengine has no root registry of this kind, so this node is the root of
# its tree (scope 'mmdl'); from another default scope name them `mmdl.X`.
ATTACKS = Registry('attack', scope='mmdl', locations=['mmdl.attacks'])
