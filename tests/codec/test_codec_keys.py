"""encode_key gives equal bytes for equal values, whatever the order or the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import Any

import msgpack
import pytest
from codec_values import REGISTRY, Box, Key, Pair, assert_same, hashables, values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hazelkit.codec import Codec, Encryption

CODEC = Codec(registry=REGISTRY)
KEYS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_fast_path_keys() -> None:
    assert CODEC.encode_key("abc") == b"\x01\x00\xa3abc"
    assert CODEC.encode_key(7) == b"\x01\x00\x07"
    assert CODEC.encode_key(b"\x00") == b"\x01\x00\xc4\x01\x00"
    assert CODEC.decode(CODEC.encode_key(2**100)) == 2**100


@pytest.mark.parametrize("length", [0, 1, 31, 32, 255, 256, 65535, 65536])
@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])
def test_str_keys_are_written_as_the_msgpack_packer_writes_them(char: str, length: int) -> None:
    # str keys take a msgspec fast path; keys stored by earlier versions must still match
    key = (char * length)[:length]
    packed = msgpack.Packer(strict_types=True, use_bin_type=True).pack(key)
    assert CODEC.encode_key(key) == b"\x01\x00" + packed
    assert CODEC.decode_key(CODEC.encode_key(key)) == key


@given(st.text(max_size=300))
@KEYS
def test_any_str_key_is_written_as_the_msgpack_packer_writes_it(key: str) -> None:
    packed = msgpack.Packer(strict_types=True, use_bin_type=True).pack(key)
    assert CODEC.encode_key(key) == b"\x01\x00" + packed


def test_dict_insertion_order_does_not_matter() -> None:
    one = {"b": 1, "a": 2, 3: {"y": 1, "x": 2}}
    two = {3: {"x": 2, "y": 1}, "a": 2, "b": 1}
    assert CODEC.encode_key(one) == CODEC.encode_key(two)
    assert CODEC.encode(one) != CODEC.encode(two)  # encode keeps insertion order


def test_set_build_order_does_not_matter() -> None:
    words = [f"word-{n}" for n in range(200)]
    one = {"tags": set(words), "frozen": frozenset(words), "t": (set(words),)}
    two = {"t": (_rebuilt(words),), "frozen": frozenset(_rebuilt(words)), "tags": _rebuilt(words)}
    assert list(one["tags"]) != list(two["tags"])  # same elements, another order
    assert CODEC.encode_key(one) == CODEC.encode_key(two)


def _rebuilt(words: list[str]) -> set[str]:
    """A set of ``words`` that iterates in another order than ``set(words)``."""
    result = set(words) | {f"extra-{n}" for n in range(1000)}
    for n in range(1000):
        result.discard(f"extra-{n}")
    return result


def test_registered_values_are_canonical_inside() -> None:
    one = Box({"b": {3, 1, 2}, "a": 1}, "x")
    two = Box({"a": 1, "b": {2, 3, 1}}, "x")
    assert CODEC.encode_key(one) == CODEC.encode_key(two)
    assert CODEC.encode_key(Pair(frozenset({1, 2}))) == CODEC.encode_key(Pair(frozenset({2, 1})))


@KEYS
@given(value=values, seed=st.randoms(use_true_random=False))
def test_reordered_copies_give_the_same_key(value: Any, seed: Any) -> None:
    copy = _reordered(value, seed)
    assert CODEC.encode_key(copy) == CODEC.encode_key(value)


@KEYS
@given(key=hashables)
def test_keys_decode_to_equal_values_with_the_same_key(key: Any) -> None:
    data = CODEC.encode_key(key)
    assert_same(key, CODEC.decode(data))
    assert_same(key, CODEC.decode_key(data))
    assert CODEC.encode_key(CODEC.decode_key(data)) == data


def test_keys_are_never_compressed_or_encrypted() -> None:
    codec = Codec(compression_threshold=0, encryption=Encryption(keys=[os.urandom(32)]))
    key = {"long": "x" * 5000}
    data = codec.encode_key(key)
    assert data[:2] == b"\x01\x00"
    assert data == codec.encode_key(key) == Codec().encode_key(key)
    assert codec.decode_key(data) == key


def test_decode_key_also_reads_values() -> None:
    codec = Codec(encryption=Encryption(keys=[os.urandom(32)]))
    assert codec.decode_key(codec.encode({"a": 1})) == {"a": 1}


def test_distinct_types_are_distinct_keys() -> None:
    keys = [1, 1.0, True, Decimal(1), Decimal("1.0"), 0.0, -0.0, "1", b"1", (1,), Key("1")]
    encoded = {CODEC.encode_key(key) for key in keys}
    assert len(encoded) == len(keys)


_CHILD = textwrap.dedent(
    """
    import json, sys
    from decimal import Decimal
    from hazelkit.codec import Codec
    codec = Codec()
    words = [f"w{n}" for n in range(300)]
    values = [
        set(words),
        frozenset(words),
        {w: n for n, w in enumerate(words)},
        {"nested": ({"tags": set(words[:50])}, frozenset({("a", 1), ("b", 2)}))},
        {frozenset({"x", "y"}): {Decimal("1.5"), "z"}},
    ]
    print(json.dumps([codec.encode_key(v).hex() for v in values]))
    """
)


def _keys_in_subprocess(hash_seed: str) -> list[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, check=True
    )
    keys: list[str] = json.loads(result.stdout)
    return keys


@pytest.mark.parametrize("seeds", [("0", "1"), ("12345", "987654321")])
def test_keys_are_equal_across_processes_with_different_hash_seeds(
    seeds: tuple[str, str],
) -> None:
    first, second = (_keys_in_subprocess(seed) for seed in seeds)
    assert first == second
    # The check has teeth: set iteration order really differs between those processes.
    order = "import json; print(json.dumps(list({f'w{n}' for n in range(300)})))"
    orders = {
        subprocess.run(
            [sys.executable, "-c", order],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in seeds
    }
    assert len(orders) == 2


def _reordered(value: Any, rng: Any) -> Any:
    """An equal copy of ``value`` whose dicts and sets were built in another order."""
    kind = type(value)
    if kind is dict:
        items = [(_reordered(k, rng), _reordered(v, rng)) for k, v in value.items()]
        rng.shuffle(items)
        return dict(items)
    if kind in (set, frozenset):
        elements = [_reordered(item, rng) for item in value]
        rng.shuffle(elements)
        return kind(elements)
    if kind in (list, tuple):
        return kind(_reordered(item, rng) for item in value)
    if kind is Box:
        return Box(_reordered(value.content, rng), value.label)
    if kind is Pair:
        return Pair(_reordered(value.left, rng), _reordered(value.right, rng))
    return value
