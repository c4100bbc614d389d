# Copyright (c) mmdl contributors. All rights reserved.
"""Registry lookups as mmengine's builds do them, and suggestions for names
that are not registered.

``Registry.get`` finds a bare name in the node of the current scope and its
ancestors, and ``'scope.Name'`` in the node of that scope.
:func:`unknown_type_message` lists the names of every reachable scope
written as the current scope must write them (bare, or with the prefix of
their scope), and gives the prefixed name when exactly that name exists in
another scope.
"""
import difflib
import sys
from importlib import import_module
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmengine.registry import DefaultScope, Registry


def root_registries() -> Dict[str, Registry]:
    """mmengine's root registries and the parentless registries of the
    imported OpenMMLab packages (mmdl's ``REGULARIZERS``), by name."""
    import mmengine.registry.root as mmengine_roots
    roots = {
        name: registry
        for name, registry in vars(mmengine_roots).items()
        if isinstance(registry, Registry)
    }
    scopes = {s for root in list(roots.values()) for s in root.children}
    for scope in sorted(scopes):
        module = sys.modules.get(f'{scope}.registry')
        if module is None:
            continue
        for name, registry in vars(module).items():
            if (isinstance(registry, Registry) and registry.parent is None
                    and all(registry is not r for r in roots.values())):
                roots.setdefault(name, registry)
    return roots


def root_registry(registry_name: str) -> Optional[Registry]:
    """The root registry called ``registry_name`` (``'optimizer'``)."""
    for registry in root_registries().values():
        if registry.name == registry_name:
            return registry
    return None


def _registry_title(root: Registry) -> str:
    for name, registry in root_registries().items():
        if registry is root:
            return name
    return root.name.upper()


def _search(node: Registry, scope: str) -> Optional[Registry]:
    if node.scope == scope:
        return node
    for child in list(node.children.values()):
        found = _search(child, scope)
        if found is not None:
            return found
    return None


def _node(root: Registry, scope: Optional[str]) -> Registry:
    """The node of ``scope`` in the tree of ``root`` (importing
    ``<scope>.registry`` if needed); the root for None or a scope it lacks
    (as ``Registry.switch_scope_and_registry`` falls back)."""
    if scope is None:
        return root
    found = _search(root, scope)
    if found is None:
        try:
            import_module(f'{scope}.registry')
        except (ImportError, AttributeError):
            return root
        found = _search(root, scope)
    # a Registry is falsy while empty: compare with None
    return root if found is None else found


def known_scopes() -> List[str]:
    """The scopes of all nodes of the root registries."""
    scopes = set()

    def collect(node: Registry) -> None:
        scopes.add(node.scope)
        for child in list(node.children.values()):
            collect(child)

    for root in root_registries().values():
        collect(root)
    return sorted(scopes)


def resolve(root: Registry, name: str, scope: Optional[str]) -> Any:
    """What ``Registry.get`` returns for ``name`` when the tree of ``root``
    builds in ``scope`` (the root's node for a scope it lacks).

    Args:
        root (Registry): A root registry.
        name (str): The ``type``, possibly prefixed (``'mmpretrain.X'``).
        scope (str, optional): The current scope; None for the root.

    Returns:
        The registered object, or None.
    """
    with DefaultScope.overwrite_default_scope(scope):
        node = _node(root, scope)
        try:
            return node.get(name)
        except RuntimeError:  # a dotted name whose import fails
            return None


def _import_locations(node: Registry) -> None:
    try:
        node.import_from_location()
    except Exception:  # noqa: BLE001  (suggestions are best-effort)
        pass


def reachable_names(root: Registry, scope: Optional[str]) -> List[str]:
    """Every name of the tree of ``root`` as written in ``scope``: names of
    the scope's node and its ancestors bare, those of other scopes with
    their prefix (``'mmpretrain.LeNet5'`` from scope ``'mmdl'``)."""
    node = _node(root, scope)
    chain = []
    while node is not None:
        chain.append(node)
        node = node.parent
    bare = set()
    for link in chain:
        _import_locations(link)
        bare.update(link.module_dict)
    names = set(bare)
    others = list(root.children.values()) + list(chain[0].children.values())
    for other in others:
        if any(other is link for link in chain):
            continue
        _import_locations(other)
        names.update(f'{other.scope}.{key}' for key in other.module_dict
                     if key not in bare)
    return sorted(names)


def _quoted(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else (', '.join(quoted[:-1]) +
                                               f' or {quoted[-1]}')


def unknown_type_message(name: str,
                         root: Registry,
                         scope: Optional[str],
                         where: str = '') -> str:
    """The one-line explanation of a ``type`` that does not resolve.

    When the exact name is registered in another scope, the message gives
    it with the prefix it needs; otherwise it suggests the closest names of
    every reachable scope (written as in ``scope``).

    Args:
        name (str): The ``type`` as written.
        root (Registry): The root registry it was looked up in.
        scope (str, optional): The scope of the lookup; None for the root.
        where (str): Location, e.g. ``' at optim_wrapper.optimizer.type'``.

    Returns:
        str: ``unknown type 'X' at KEY: not in the R registry (scope 'S');
        did you mean 'Y'?``
    """
    bare = Registry.split_scope_key(name)[1]
    names = [n for n in reachable_names(root, scope) if n != name]
    head = (f"unknown type '{name}'{where}: not in the "
            f"{_registry_title(root)} registry (scope "
            f"'{scope or root.scope}')")
    exact = [n for n in names if Registry.split_scope_key(n)[1] == bare]
    prefixed = [n for n in exact if n != bare]
    if prefixed:
        scopes = ', '.join(f"'{Registry.split_scope_key(n)[0]}'"
                           for n in prefixed)
        return (f"{head}; '{bare}' is registered in scope {scopes}: "
                f'components of another scope need its prefix, use '
                f'{_quoted(prefixed)}')

    def score(candidate: str) -> Tuple[float, float]:
        """Closeness of the bare names, then of the names as written."""
        candidate_bare = Registry.split_scope_key(candidate)[1]
        return (difflib.SequenceMatcher(None, bare.lower(),
                                        candidate_bare.lower()).ratio(),
                difflib.SequenceMatcher(None, name, candidate).ratio())

    scored = sorted(((score(n), n) for n in names),
                    key=lambda item: (-item[0][0], -item[0][1], item[1]))
    close = [n for (bare_score, _), n in scored if bare_score >= 0.6][:3]
    return f'{head}; did you mean {_quoted(close)}?' if close else head
