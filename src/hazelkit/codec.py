"""Encoding Python values to bytes and back: the format hazelkit stores in the cluster.

    codec = Codec()                          # lz4 above 1 KiB, no encryption
    data = codec.encode({"id": 1, "tags": {"a", "b"}})
    codec.decode(data)                       # the same value, same types

    @register("app.User")                    # dataclasses, msgspec Structs, Enums
    @dataclass
    class User: ...

    Codec(encryption=Encryption.from_password(password, salt="app-prod"))

See :class:`Codec` for the supported types and guarantees.
"""

from hazelkit._codec import Codec, Encryption, TypeRegistry, default_registry, register

__all__ = ["Codec", "Encryption", "TypeRegistry", "default_registry", "register"]


from hazelkit._core._public import publish as _publish

_publish(__name__, globals(), __all__)
