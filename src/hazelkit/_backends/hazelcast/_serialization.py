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

The data path skips the client's serializer both ways, byte for byte the same on the
wire: what hazelkit sends is a :class:`BlobData`, the client's binary form of a Blob
built in one concatenation, whose partition hash (the client's MurmurHash3, in pure
Python, ~4 us a key here) is computed by ``mmh3`` in C (~0.1 us) and once; what comes
back as a Blob is sliced out of its binary form instead of read through the client's
input stream. The client's own path (``to_data(Blob(...))``, which the raw-client
baselines of ``hazelkit bench`` use) builds the same bytes; a test proves it.
"""

from __future__ import annotations

import struct
from typing import Any

import mmh3
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


#: A Blob's binary form: partition hash (0: none, the client hashes the rest), type id,
#: the byte array's length, then its bytes (big-endian, as the client writes them).
_HEADER = struct.Struct(">iii")
_HEADER_SIZE = _HEADER.size
#: The seed of the client's MurmurHash3 (``hazelcast.hash.murmur_hash3_x86_32``).
_MURMUR_SEED = 0x01000193


class BlobData(Data):
    """``payload`` as the client's serialized Data of ``Blob(payload)``: the client
    sends it as it is (``to_data`` passes Data through) and partitions it by a hash
    computed once, in C."""

    __slots__ = ("_hash",)

    def __init__(self, payload: bytes) -> None:
        self.buffer = _HEADER.pack(0, BLOB_TYPE_ID, len(payload)) + payload
        self._hash: int | None = None

    def hash_code(self) -> int:
        """The client's murmur hash of the data (everything after the first 8 bytes)."""
        value = self._hash
        if value is None:
            value = self._hash = mmh3.hash(self.buffer[8:], _MURMUR_SEED, signed=True)
        return value

    def get_partition_hash(self) -> int:
        return self.hash_code()  # the header carries no partition hash

    def __hash__(self) -> int:  # Data's equality (by bytes) is kept
        return self.hash_code()


def blob_payload(data: Data) -> bytes | None:
    """The payload of a Blob's Data, sliced out; None if ``data`` is not exactly one."""
    buffer = data.buffer
    if len(buffer) < _HEADER_SIZE:
        return None
    _, type_id, length = _HEADER.unpack_from(buffer)
    if type_id != BLOB_TYPE_ID or length != len(buffer) - _HEADER_SIZE:
        return None
    return bytes(buffer[_HEADER_SIZE:])


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
        if not isinstance(data, Data):
            return read(data)
        payload = blob_payload(data)
        if payload is not None:
            return Blob(payload)
        if data.get_type() in (BLOB_TYPE_ID, CONSTANT_TYPE_NULL):  # type: ignore[no-untyped-call]
            return read(data)
        return Blob(bytes(data.buffer))

    service.to_object = to_object
