"""hazelkit's binary codec; the public names live in :mod:`hazelkit.codec`."""

from hazelkit._codec._codec import DEFAULT_MAX_SIZE, Codec
from hazelkit._codec._crypto import Encryption
from hazelkit._codec._registry import TypeRegistry, default_registry, register

__all__ = [
    "DEFAULT_MAX_SIZE",
    "Codec",
    "Encryption",
    "TypeRegistry",
    "default_registry",
    "register",
]
