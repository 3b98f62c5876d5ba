"""Every way encoding or decoding can fail raises one clear SerializationError subclass."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import tracemalloc
from typing import Any

import lz4.block
import msgspec
import pytest
from codec_values import REGISTRY, Box

from hazelkit import (
    ConfigurationError,
    CorruptDataError,
    DecryptionError,
    EncodeError,
    HazelkitError,
    SerializationError,
    UnknownTypeError,
    UnsupportedVersionError,
)
from hazelkit.codec import Codec, Encryption, TypeRegistry

CODEC = Codec(registry=REGISTRY)
KEY = os.urandom(32)
ENCRYPTED = Codec(registry=REGISTRY, encryption=Encryption(keys=[KEY]))


@pytest.mark.parametrize("data", [b"", b"\x01"])
def test_truncated_header(data: bytes) -> None:
    with pytest.raises(CorruptDataError, match="truncated"):
        CODEC.decode(data)


def test_header_without_body() -> None:
    with pytest.raises(CorruptDataError, match="truncated"):
        CODEC.decode(b"\x01\x00")


def test_truncated_body() -> None:
    data = CODEC.encode({"key": "value", "list": [1, 2, 3]})
    for end in range(2, len(data)):
        with pytest.raises(CorruptDataError):
            CODEC.decode(data[:end])


def test_unknown_version() -> None:
    data = b"\x07" + CODEC.encode(1)[1:]
    with pytest.raises(UnsupportedVersionError, match="format version 7, this hazelkit reads"):
        CODEC.decode(data)


@pytest.mark.parametrize("flags", [0x10, 0x20, 0x80, 0xFF])
def test_unknown_flag(flags: int) -> None:
    with pytest.raises(UnsupportedVersionError, match="unknown flag"):
        CODEC.decode(bytes((1, flags)) + b"\x01")


def test_zstd_flag_is_reserved() -> None:
    with pytest.raises(UnsupportedVersionError, match="zstd"):
        CODEC.decode(b"\x01\x02\x01")


def test_corrupt_lz4() -> None:
    data = bytearray(Codec(compression_threshold=0).encode("abc" * 1000))
    assert data[1] == 0x01
    data[10:20] = b"\xff" * 10
    with pytest.raises(CorruptDataError, match="lz4"):
        CODEC.decode(bytes(data))


def test_lz4_without_size_prefix() -> None:
    with pytest.raises(CorruptDataError, match="truncated compressed"):
        CODEC.decode(b"\x01\x01\x05")


def test_decompression_bomb_is_refused_before_allocating() -> None:
    block = lz4.block.compress(b"\x00" * 5_000_000, store_size=False)
    bomb = b"\x01\x01" + (5_000_000).to_bytes(4, "little") + block
    small = Codec(max_size=1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptDataError, match="max_size limit of 1000000 bytes"):
            small.decode(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000
    lying = b"\x01\x01" + (0xFFFFFFF0).to_bytes(4, "little") + block
    with pytest.raises(CorruptDataError, match="declares 4294967280 bytes"):
        CODEC.decode(lying)


def test_declared_size_that_does_not_match_is_corrupt() -> None:
    block = lz4.block.compress(b"\x01" * 5000, store_size=False)
    with pytest.raises(CorruptDataError, match="lz4"):
        CODEC.decode(b"\x01\x01" + (6000).to_bytes(4, "little") + block)


def test_input_over_max_size() -> None:
    small = Codec(max_size=100)
    with pytest.raises(CorruptDataError, match="max_size limit of 100 bytes"):
        small.decode(Codec().encode("x" * 200))


def test_encoding_over_max_size() -> None:
    with pytest.raises(EncodeError, match="max_size limit of 100 bytes"):
        Codec(max_size=100).encode("x" * 200)
    with pytest.raises(EncodeError, match="max_size"):
        Codec(max_size=100).encode_key("x" * 200)
    with pytest.raises(EncodeError, match="max_size"):
        Codec(max_size=100, compression_threshold=0).encode(os.urandom(200))


def test_wrong_key() -> None:
    other = Encryption(keys=[os.urandom(32)])
    data = Codec(encryption=other).encode("secret")
    with pytest.raises(DecryptionError, match="encrypted with a different key") as raised:
        ENCRYPTED.decode(data)
    assert other.key_ids[0] in str(raised.value)


def test_old_keys_still_decrypt_after_rotation() -> None:
    old, new = os.urandom(32), os.urandom(32)
    written = Codec(encryption=Encryption(keys=[old])).encode({"v": 1})
    rotated = Codec(encryption=Encryption(keys=[new, old]))
    assert rotated.decode(written) == {"v": 1}
    rewritten = rotated.encode({"v": 1})
    assert rewritten[2:6] == bytes.fromhex(Encryption(keys=[new]).key_ids[0])
    with pytest.raises(DecryptionError, match="different key"):
        Codec(encryption=Encryption(keys=[old])).decode(rewritten)


def test_every_tampered_byte_is_detected() -> None:
    data = ENCRYPTED.encode({"a": 1})
    assert data[1] == 0x04
    for index in range(len(data)):
        for mask in (0x01, 0x80, 0xFF):
            tampered = bytearray(data)
            tampered[index] ^= mask
            with pytest.raises(SerializationError) as raised:
                ENCRYPTED.decode(bytes(tampered))
            error, message = raised.value, str(raised.value)
            if index == 0 or (index == 1 and tampered[1] & ~0x05):  # version, unknown flags
                assert isinstance(error, UnsupportedVersionError)
            elif index == 1 and not tampered[1] & 0x04:
                assert isinstance(error, DecryptionError), message
                assert "not encrypted" in message
            elif 2 <= index < 6:
                assert isinstance(error, DecryptionError)
                assert "encrypted with a different key" in message
            else:
                assert isinstance(error, DecryptionError), (index, mask, message)
                assert "tampered with or corrupt" in message


def test_truncated_ciphertext() -> None:
    data = ENCRYPTED.encode("x")
    for end in range(2, len(data)):
        with pytest.raises((CorruptDataError, DecryptionError)):
            ENCRYPTED.decode(data[:end])


def test_encrypted_value_without_a_key() -> None:
    with pytest.raises(DecryptionError, match="value is encrypted but no key is configured"):
        CODEC.decode(ENCRYPTED.encode(1))


def test_plaintext_is_refused_when_encryption_is_configured() -> None:
    with pytest.raises(DecryptionError, match="not encrypted"):
        ENCRYPTED.decode(CODEC.encode(1))
    with pytest.raises(DecryptionError, match="not encrypted"):
        ENCRYPTED.decode(CODEC.encode_key(1))


def test_encryption_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="32 bytes"):
        Encryption(keys=[b"short"])
    with pytest.raises(ConfigurationError, match="at least one key"):
        Encryption(keys=[])
    with pytest.raises(ConfigurationError, match="share the key id"):
        Encryption(keys=[KEY, KEY])
    with pytest.raises(ConfigurationError, match="salt"):
        Encryption.from_password("pw", salt="")
    with pytest.raises(ConfigurationError, match="password"):
        Encryption.from_password("", salt="app")


def test_password_keys_depend_on_password_and_salt() -> None:
    one = Encryption.derive_key("correct horse", salt="app-prod")
    assert len(one) == 32
    assert one == Encryption.derive_key("correct horse", salt=b"app-prod")
    assert one != Encryption.derive_key("correct horse", salt="app-test")
    assert one != Encryption.derive_key("correct horsf", salt="app-prod")
    codec = Codec(encryption=Encryption.from_password("correct horse", salt="app-prod"))
    assert Codec(encryption=Encryption(keys=[one])).decode(codec.encode([1])) == [1]


def test_unknown_registered_name() -> None:
    data = CODEC.encode(Box(1))
    with pytest.raises(UnknownTypeError, match=r"'test\.Box'.*must be registered"):
        Codec(registry=TypeRegistry()).decode(data)


def test_kind_mismatch() -> None:
    reader = TypeRegistry()

    @reader.register("test.Box")
    class NotABox(msgspec.Struct):
        content: Any
        label: str = ""

    with pytest.raises(CorruptDataError, match="written as a dataclass"):
        Codec(registry=reader).decode(CODEC.encode(Box(1)))


@dataclasses.dataclass
class Unregistered:
    x: int


def test_unregistered_dataclass_on_encode() -> None:
    with pytest.raises(EncodeError, match=r"Unregistered'> at value\[0\]\.content: register"):
        CODEC.encode([Box(Unregistered(1))])
    with pytest.raises(EncodeError, match=r"at value: register it with hazelkit\.codec\.register"):
        CODEC.encode(Unregistered(1))


def test_unencodable_object_nested_in_a_dict_names_its_path() -> None:
    with socket.socket() as sock:
        with pytest.raises(EncodeError) as raised:
            CODEC.encode({"ok": 1, "conn": [1, 2, sock]})
        assert str(raised.value).startswith(
            "cannot encode <class 'socket.socket'> at value['conn'][2]: "
            "register it with hazelkit.codec.register or convert it"
        )
        with pytest.raises(EncodeError, match=r"at value\.<key <socket"):
            CODEC.encode_key({sock: 1})
        with pytest.raises(EncodeError, match=r"at value\[0\]\.<element"):
            CODEC.encode([{1, sock}])


def test_unencodable_paths_through_registered_types_and_keys() -> None:
    with pytest.raises(EncodeError, match=r"at value\.content\[1\]"):
        CODEC.encode(Box((1, object())))
    with pytest.raises(EncodeError, match=r"at value\.<key \(1,"):
        CODEC.encode({(1, object()): 1})


def test_lone_surrogates_are_refused_with_their_path() -> None:
    with pytest.raises(EncodeError, match=r"str at value\['a'\]\[1\].*surrogates"):
        CODEC.encode({"a": ["ok", "\ud800"]})


def test_self_containing_value() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(EncodeError, match="nested too deeply"):
        CODEC.encode(loop)
    with pytest.raises(EncodeError, match="nested too deeply"):
        CODEC.encode_key(loop)


def test_too_deep_to_encode() -> None:
    deep: Any = 1
    for _ in range(100_000):
        deep = (deep,)
    with pytest.raises(EncodeError, match="nested too deeply"):
        CODEC.encode(deep)


@pytest.mark.parametrize("depth", [100, 990, 1020])
def test_whatever_depth_encodes_also_decodes(depth: int) -> None:
    for wrap in (lambda v: [v], lambda v: {"k": v}, lambda v: (v,)):
        deep: Any = 1
        for _ in range(depth):
            deep = wrap(deep)
        try:
            data = CODEC.encode(deep)
        except EncodeError:
            continue
        assert _depth(CODEC.decode(data)) == depth


def _depth(value: Any) -> int:
    """How deep single-item lists, dicts and tuples nest (without recursion)."""
    depth = 0
    while value != 1:
        value = next(iter(value.values())) if type(value) is dict else value[0]
        depth += 1
    return depth


@pytest.mark.parametrize(
    "body",
    [
        b"\x91" * 100_000 + b"\xc0",
        b"\x81\xc0" * 100_000 + b"\xc0",
        b"\xc7\x00\x02" * 1 + b"\xc0",
        b"".join((b"\xc9" + (n * 3 + 1).to_bytes(4, "big") + b"\x02") for n in range(20_000, 0, -1))
        + b"\xc0",
    ],
    ids=["lists", "maps", "empty-tuple-payload", "tuples"],
)
def test_deep_or_odd_input_is_an_error_not_a_crash(body: bytes) -> None:
    with contextlib.suppress(SerializationError):
        CODEC.decode(b"\x01\x00" + body)


def test_tuple_nested_100_000_deep_in_the_input() -> None:
    body = b"\xc0"
    for _ in range(100_000):
        body = b"\xc9" + (len(body) + 1).to_bytes(4, "big") + b"\x02\x91" + body
    with pytest.raises(CorruptDataError, match="nested too deeply"):
        CODEC.decode(b"\x01\x00" + body)


def test_list_nested_100_000_deep_in_the_input() -> None:
    with pytest.raises(CorruptDataError, match="nested too deeply"):
        CODEC.decode(b"\x01\x00" + b"\x91" * 100_000 + b"\xc0")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\xc1", "invalid type byte 0xc1 at byte 2"),
        (b"\x01\x02", "1 unexpected byte\\(s\\) after the value at byte 3"),
        (b"\xa1\xff", "a string is not valid UTF-8 at byte 3"),
        (b"\xd4\x63\x00", "unknown extension type 99"),
        (b"\xd4\x0a\x00", "malformed"),
        (b"\x81\x80\x01", "a map key or a set item is a map, which is not hashable at byte 3"),
        (
            b"\xc7\x02\x03\x91\x80",
            "a set item is a map, which is not hashable at byte 6",
        ),
        (b"\x92\x01", "the value is truncated at byte 4"),
        (b"\xd6\x06\xa3abc", "malformed"),
        (b"\xc7\x0c\x05" + bytes(12), "malformed"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    """hazelkit words every decoding failure itself (never the decoder's text, which
    changes between releases) and keeps the decoder's exception as the cause."""
    with pytest.raises(CorruptDataError, match=message) as caught:
        CODEC.decode(b"\x01\x00" + body)
    assert not str(caught.value).startswith("MessagePack")


@pytest.mark.parametrize("body", [b"\xc1", b"\x01\x02", b"\xa1\xff", b"\x81\x80\x01", b"\x92\x01"])
def test_a_decoder_failure_is_the_cause_of_the_corrupt_data_error(body: bytes) -> None:
    with pytest.raises(CorruptDataError) as caught:
        CODEC.decode(b"\x01\x00" + body)
    cause = caught.value.__cause__
    assert cause is not None
    assert not isinstance(cause, HazelkitError)


def test_a_fault_in_a_compressed_body_says_the_position_is_in_the_decompressed_body() -> None:
    codec = Codec(compression="lz4", compression_threshold=1)
    header = codec.encode(["x" * 200])[:2]  # the header of a compressed value
    body = b"\x92\xd9\xc8" + b"x" * 200 + b"\x81\x80\x01"  # [str, {{}: 1}]
    with pytest.raises(CorruptDataError, match="not hashable at byte 206 of the decompressed"):
        codec.decode(header + lz4.block.compress(body, store_size=True))


def test_decode_refuses_non_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        CODEC.decode("text")  # type: ignore[arg-type]


def test_an_encrypted_value_bound_to_its_place_opens_only_there() -> None:
    codec = Codec(encryption=Encryption(keys=[os.urandom(32)]))
    data = codec.encode({"secret": 1}, b"map\x00users\x00k1")
    assert codec.decode(data, b"map\x00users\x00k1") == {"secret": 1}
    for elsewhere in (b"map\x00users\x00k2", b"map\x00other\x00k1", None):
        with pytest.raises(DecryptionError, match="moved here from another key"):
            codec.decode(data, elsewhere)


def test_values_encrypted_without_a_place_still_decode_anywhere() -> None:
    codec = Codec(encryption=Encryption(keys=[os.urandom(32)]))
    unbound = codec.encode("written by an older hazelkit")
    assert codec.decode(unbound, b"map\x00users\x00k1") == "written by an older hazelkit"


def test_a_place_changes_nothing_without_encryption() -> None:
    assert CODEC.decode(CODEC.encode("x", b"somewhere"), b"elsewhere") == "x"
