"""hazelkit's direct binary form of a Blob is byte for byte what the client would build.

hazelkit hands the Hazelcast client ready-made Data (:class:`BlobData`) and slices the
payload out of the Data it gets back; a member, another client, or data written before
the change must see no difference. These checks need no member: they compare with the
client's own serialization service configured as hazelkit configures it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hazelcast.config import Config
from hazelcast.hash import murmur_hash3_x86_32
from hazelcast.serialization.data import Data
from hazelcast.serialization.service import SerializationServiceV1
from hypothesis import given
from hypothesis import strategies as st

from hazelkit._backends.hazelcast._serialization import (
    Blob,
    BlobData,
    blob_payload,
    refuse_pickle,
    serializer_options,
)


class _Client:
    """What refuse_pickle reaches into: a client's serialization service."""

    def __init__(self) -> None:
        self._serialization_service = SerializationServiceV1(Config.from_dict(serializer_options()))


@pytest.fixture(scope="module")
def service() -> Any:
    client = _Client()
    refuse_pickle(client)
    return client._serialization_service


@given(st.binary(max_size=2048))
def test_blob_data_is_the_clients_serialized_blob(payload: bytes) -> None:
    service = _Client()._serialization_service
    expected = service.to_data(Blob(payload))
    built = BlobData(payload)
    assert bytes(built.buffer) == bytes(expected.buffer)
    assert built.get_partition_hash() == expected.get_partition_hash()
    assert built.hash_code() == murmur_hash3_x86_32(expected.buffer)
    assert hash(built) == hash(expected)
    assert built == expected
    assert service.to_data(built) is built  # sent as it is


@given(st.binary(max_size=2048))
def test_a_blob_read_back_is_its_payload(payload: bytes) -> None:
    client = _Client()
    refuse_pickle(client)
    service = client._serialization_service
    read = service.to_object(service.to_data(Blob(payload)))
    assert isinstance(read, Blob)
    assert read.data == payload
    assert blob_payload(BlobData(payload)) == payload


def test_data_that_is_not_exactly_one_blob_is_not_sliced(service: Any) -> None:
    blob = bytes(BlobData(b"abc").buffer)
    assert blob_payload(Data(blob[:-1])) is None  # its length field says 3
    assert blob_payload(Data(blob + b"x")) is None
    assert blob_payload(Data(b"")) is None
    foreign = service.to_data("a str another client wrote")
    assert blob_payload(foreign) is None
    read = service.to_object(foreign)
    assert isinstance(read, Blob)
    assert read.data == bytes(foreign.buffer)  # kept raw, as before
