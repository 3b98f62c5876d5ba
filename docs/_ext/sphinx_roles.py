"""A Griffe extension: hazelkit's docstrings name objects with Sphinx roles
(``:class:`Map```, ``:meth:`put```, ``:func:`~hazelkit.connect```); this turns each into
a cross-reference to the page where the API reference documents it (mkdocs.yml loads
it).

A role is resolved as Python would resolve the name from where the docstring stands
(the class, its module, then the package), then mapped to its public path (a class
defined in ``hazelkit._structures._map`` is documented as ``hazelkit.Map``). A role
naming something outside hazelkit (``asyncio.Event``) stays plain code. A role naming
something else (a name hazelkit does not have, or one the reference does not document)
becomes a reference that cannot be found, which ``mkdocs build --strict`` reports in
the docstrings it renders: that is how a renamed or removed name fails CI.
"""

from __future__ import annotations

import builtins
import importlib.util
import re
from typing import Any

import griffe

PUBLIC_MODULES = (
    "hazelkit",
    "hazelkit.blocking",
    "hazelkit.workflows",
    "hazelkit.components",
    "hazelkit.web",
    "hazelkit.codec",
    "hazelkit.testing",
    "hazelkit.lowlevel",
)
ROLE = re.compile(r":(?:class|func|meth|exc|attr|data|obj|mod):`(~?)\.?([\w.]+)(\(\))?`")


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles in every docstring of the hazelkit package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != "hazelkit":
            return
        public = _public_paths(pkg)
        for obj in _documented(pkg):
            docstring = obj.docstring
            if docstring is not None and ":`" in docstring.value:
                docstring.value = ROLE.sub(
                    lambda match, obj=obj: _reference(pkg, public, obj, match), docstring.value
                )


def _public_paths(pkg: griffe.Module) -> dict[str, str]:
    """Canonical path (where an object is defined) -> the path it is documented under."""
    public: dict[str, str] = {}
    for module_path in PUBLIC_MODULES:
        module = pkg if module_path == "hazelkit" else pkg[module_path.removeprefix("hazelkit.")]
        public.setdefault(module.path, module_path)
        for name in module.exports or ():
            member = module.members.get(str(name))
            target = _final(member)
            if target is None:
                continue
            public.setdefault(target.path, f"{module_path}.{name}")
            if target.is_class:
                for attribute, child in target.all_members.items():
                    child_target = _final(child)
                    if attribute.startswith("_") or child_target is None:
                        continue
                    documented = f"{module_path}.{name}.{attribute}"
                    public.setdefault(f"{target.path}.{attribute}", documented)
                    public.setdefault(child_target.path, documented)  # inherited
    return public


def _final(obj: Any) -> Any:
    if obj is None:
        return None
    if obj.is_alias:
        try:
            return obj.final_target
        except (griffe.AliasResolutionError, griffe.CyclicAliasError):
            return None
    return obj


def _documented(module: griffe.Module) -> Any:
    """Every module, class, function and attribute of the package (aliases excluded)."""
    stack: list[Any] = [module]
    while stack:
        obj = stack.pop()
        yield obj
        if obj.is_module or obj.is_class:
            stack.extend(m for m in obj.members.values() if not m.is_alias)


def _reference(pkg: griffe.Module, public: dict[str, str], where: Any, match: re.Match[str]) -> str:
    short, name, call = match.group(1), match.group(2), match.group(3) or ""
    title = f"`{name.rsplit('.', 1)[-1] if short else name}{call}`"
    for candidate in _candidates(where, name):
        target = _lookup(pkg, candidate)
        if target is not None:
            documented = public.get(target.path)
            return f"[{title}][{documented or target.path}]"
    if _outside_hazelkit(name):
        return title
    return f"[{title}][{name}]"  # a name hazelkit does not have: reported by --strict


def _outside_hazelkit(name: str) -> bool:
    """True for a builtin (``TimeoutError``) or a name in another importable module
    (``asyncio.Event``, ``time.monotonic``)."""
    first = name.split(".", 1)[0]
    if first == "hazelkit":
        return False
    if "." not in name:
        return hasattr(builtins, name) or importlib.util.find_spec(name) is not None
    return importlib.util.find_spec(first) is not None


def _candidates(where: Any, name: str) -> list[str]:
    """Where Python would look ``name`` up from ``where``: its class, then its module and
    the packages above it."""
    if name.startswith("hazelkit"):
        return [name]
    scopes = []
    scope = where if where.is_class or where.is_module else where.parent
    while scope is not None:
        scopes.append(scope.path)
        scope = scope.parent
    return [f"{scope}.{name}" for scope in scopes]


def _lookup(pkg: griffe.Module, path: str) -> Any:
    """The object at ``path`` (following aliases), or None."""
    parts = path.split(".")
    if parts[0] != "hazelkit":
        return None
    obj: Any = pkg
    for part in parts[1:]:
        obj = _final(obj)
        members = None if obj is None else (obj.all_members if obj.is_class else obj.members)
        if members is None or part not in members:
            return None
        obj = members[part]
    return _final(obj)
