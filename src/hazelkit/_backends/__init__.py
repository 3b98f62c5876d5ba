"""Backends, loaded by URL scheme on demand (so ``memory://`` never imports the client)."""

from __future__ import annotations

import importlib

from hazelkit._backends.protocol import Backend
from hazelkit._core._url import ClusterOptions

_MODULES = {"memory": "hazelkit._backends.memory", "hazelcast": "hazelkit._backends.hazelcast"}


def open_backend(options: ClusterOptions) -> Backend:
    """A new, not yet started backend for ``options.scheme``."""
    module = importlib.import_module(_MODULES[options.scheme])
    backend: Backend = module.backend_class(options)
    return backend
