"""How hazelkit's bytes travel through hazelcast-python-client without pickle.

Every key, value, item and message hazelkit hands to the client is a :class:`Blob`: the
codec's bytes in a marker type with its own ``StreamSerializer``. The client would pickle
any type it does not know (plain ``bytes`` included) and unpickle type id -120 when it
arrives from the cluster; :func:`refuse_pickle` closes both doors on a client, so a value
from the cluster is never unpickled and nothing hazelkit sends is ever pickled.

Values other clients wrote (a str, an int, JSON, a Java object, a pickle) are never
interpreted either: :func:`refuse_pickle` also makes the client hand *every* value that
is not a Blob to hazelkit as a Blob of its raw serialized bytes (Hazelcast's own format:
a 4-byte partition hash, a 4-byte type id, the payload). Those bytes are not hazelkit
values, so the codec refuses them with a SerializationError and each read path reports
them as undecodable with the bytes kept; none is dropped, and no read fails with an
AttributeError because a str arrived where bytes were expected.
"""

from __future__ import annotations

from typing import Any

from hazelcast.errors import HazelcastSerializationError
from hazelcast.serialization.api import ObjectDataInput, ObjectDataOutput, StreamSerializer
from hazelcast.serialization.data import Data
from hazelcast.serialization.serialization_const import CONSTANT_TYPE_NULL, PYTHON_TYPE_PICKLE

#: The Hazelcast type id of hazelkit blobs ("HK"); positive ids are for custom serializers.
BLOB_TYPE_ID = 0x484B


class Blob:
    """Encoded bytes on their way to or from the cluster."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Blob({self.data!r})"


class BlobSerializer(StreamSerializer):
    """Writes a Blob as one length-prefixed byte array, and reads it back."""

    def write(self, out: ObjectDataOutput, obj: Blob) -> None:
        # The client types this as bytearray, but any bytes-like object is written as is.
        out.write_byte_array(obj.data)  # type: ignore[arg-type]

    def read(self, inp: ObjectDataInput) -> Blob:
        return Blob(bytes(inp.read_byte_array()))

    def get_type_id(self) -> int:
        return BLOB_TYPE_ID

    def destroy(self) -> None:
        pass


class RefusingSerializer(StreamSerializer):
    """Stands where the client would fall back to pickle, and refuses."""

    def write(self, out: ObjectDataOutput, obj: Any) -> None:
        raise HazelcastSerializationError(
            f"hazelkit refuses to send a {type(obj).__name__} through the Hazelcast client: "
            "only hazelkit-encoded values may cross (this would have been pickled)"
        )

    def read(self, inp: ObjectDataInput) -> Any:
        raise HazelcastSerializationError(
            "refusing to decode a value the cluster holds in Python pickle format: hazelkit "
            "never unpickles data from the cluster (was it written by another client?)"
        )

    def get_type_id(self) -> int:
        return PYTHON_TYPE_PICKLE

    def destroy(self) -> None:
        pass


def serializer_options() -> dict[str, Any]:
    """Client options that register the Blob serializer and replace the global fallback."""
    return {
        "custom_serializers": {Blob: BlobSerializer},
        "global_serializer": _RefuseUnknown,
    }


class _RefuseUnknown(RefusingSerializer):
    """The global serializer: consulted for unknown types before the pickle fallback."""

    def get_type_id(self) -> int:
        return -0x484B  # distinct from pickle's id so the registry keeps both


def refuse_pickle(client: Any) -> None:
    """Make the client's pickle serializer refuse, in both directions, and read every
    value that is not a Blob as its raw bytes (see the module).

    The client registers its pickle serializer for type id -120 (decoding) and keeps it as
    the last resort for unknown types (encoding); both are replaced, and the service's
    ``to_object`` (how every value from the cluster is read) hands any value that is not
    a Blob over as a Blob of its raw bytes, without reading it. Raises RuntimeError if the
    client's internals changed shape, so an upgrade cannot silently reopen the door.
    """
    try:
        service = client._serialization_service
        registry = service._registry
        id_table = registry._id_dict
        registry._python_serializer  # noqa: B018  (must exist: it is what we replace)
        read = service.to_object
    except AttributeError as error:  # pragma: no cover - guards a client upgrade
        raise RuntimeError(
            "hazelcast-python-client internals changed: cannot disable its pickle fallback"
        ) from error
    refusing = RefusingSerializer()
    id_table[PYTHON_TYPE_PICKLE] = refusing
    registry._python_serializer = refusing

    def to_object(data: Any) -> Any:
        if not isinstance(data, Data) or data.get_type() in (BLOB_TYPE_ID, CONSTANT_TYPE_NULL):  # type: ignore[no-untyped-call]
            return read(data)
        return Blob(bytes(data.buffer))

    service.to_object = to_object
