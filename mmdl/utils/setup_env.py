# Copyright (c) mmdl contributors. All rights reserved.
"""Register mmdl's modules and make ``'mmdl'`` the default scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmdl into its registries.

    Configs run by ``tools/train.py`` do not need this (``default_scope=
    'mmdl'`` imports everything lazily through the registries' locations);
    it is for scripts and notebooks that build components directly.

    Args:
        init_default_scope (bool): Whether to make ``'mmdl'`` the current
            default scope. If another scope is current, a new ``'mmdl'``
            scope instance is created and made current. Defaults to True.
    """
    import mmdl.datasets  # noqa: F401,F403
    import mmdl.engine  # noqa: F401,F403
    import mmdl.evaluation  # noqa: F401,F403
    import mmdl.models  # noqa: F401,F403
    import mmdl.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None:
        DefaultScope.get_instance('mmdl', scope_name='mmdl')
    elif current.scope_name != 'mmdl':
        warnings.warn(f'The current default scope "{current.scope_name}" '
                      'is not "mmdl"; `register_all_modules` makes a new '
                      'default scope "mmdl".')
        name = f'mmdl-{datetime.datetime.now()}'
        DefaultScope.get_instance(name, scope_name='mmdl')
