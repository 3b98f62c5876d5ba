"""Data written by earlier encoders still decodes, to values of the same types.

``fixtures/format_v1.json`` holds bytes that the format-1 encoder of hazelkit 0.1
(msgpack's Packer with hooks) wrote for every value of ``ONE_OF_EACH``: plain,
compressed, encrypted (bound to a place) and as canonical keys. They were written
once by ``fixtures/write_format_v1.py`` and are never regenerated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from codec_values import ONE_OF_EACH, REGISTRY, assert_same

from hazelkit.codec import Codec, Encryption

FIXTURES = json.loads(Path(__file__).with_name("fixtures").joinpath("format_v1.json").read_text())
KEY = bytes(range(32))
CODEC = Codec(registry=REGISTRY)
ENCRYPTED = Codec(registry=REGISTRY, encryption=Encryption(keys=[KEY]))


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _cases(kind: str) -> list[tuple[Any, str]]:
    expected = ONE_OF_EACH if kind != "keys" else [v for v in ONE_OF_EACH if _hashable(v)]
    stored = FIXTURES[kind]
    assert len(stored) == len(expected)
    return list(zip(expected, stored, strict=True))


@pytest.mark.parametrize("kind", ["values", "compressed"])
def test_values_written_by_format_1_decode_to_the_same_types(kind: str) -> None:
    for expected, data in _cases(kind):
        assert_same(expected, CODEC.decode(bytes.fromhex(data)))


def test_encrypted_values_written_by_format_1_decode_with_their_place() -> None:
    for expected, data in _cases("encrypted"):
        assert_same(expected, ENCRYPTED.decode(bytes.fromhex(data), b"map/x"))


def test_keys_written_by_format_1_decode_and_are_written_identically_today() -> None:
    for expected, data in _cases("keys"):
        assert_same(expected, CODEC.decode_key(bytes.fromhex(data)))
        # A map key is found by its bytes: they must never change.
        assert CODEC.encode_key(expected).hex() == data


def test_a_large_compressed_value_written_by_format_1_decodes() -> None:
    data = bytes.fromhex(FIXTURES["large"])
    assert data[1] & 0x01  # the lz4 flag: this one was compressed
    expected = {"rows": [{"n": i, "text": "hazelkit " * 8} for i in range(200)]}
    assert_same(expected, CODEC.decode(data))
