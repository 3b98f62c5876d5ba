"""Public names report the public module they are used from, never a private path.

httpx does the same: ``repr(hazelkit.Map)``, tracebacks and API docs then show
``hazelkit.Map``, not ``hazelkit._structures._map.Map``, so the private layout can change
without users seeing it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

__all__ = ["publish"]


def publish(module_name: str, namespace: dict[str, Any], names: Iterable[str]) -> None:
    """Set ``__module__`` of each class and function ``names`` in ``namespace`` to
    ``module_name``, unless it already reports a public module at least as short (a
    class exported by ``hazelkit`` and ``hazelkit.codec`` reports ``hazelkit``)."""
    for name in names:
        value = namespace[name]
        if not isinstance(value, type) and not callable(value):
            continue
        current = getattr(value, "__module__", None) or ""
        if not current.startswith("hazelkit") or (
            _is_public(current) and (len(current) <= len(module_name))
        ):
            continue
        with contextlib.suppress(AttributeError, TypeError):  # a builtin: leave it
            value.__module__ = module_name


def _is_public(module_name: str) -> bool:
    return not any(part.startswith("_") for part in module_name.split("."))
