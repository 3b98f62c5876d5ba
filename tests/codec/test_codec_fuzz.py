"""Decoding arbitrary bytes returns a value or raises SerializationError, nothing else.

The inputs are random byte strings and mutations (bit flips, truncations, insertions,
splices, overwritten bytes) of valid encodings of varied values, plain, compressed and
encrypted. ``HAZELKIT_FUZZ_INPUTS`` sets how many (20,000 by default; CI runs 100,000)
and ``HAZELKIT_FUZZ_SEED`` the seed; a failure reports both, and the input.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from codec_values import ONE_OF_EACH, REGISTRY, Box, Color, Item, Pair

from hazelkit import SerializationError
from hazelkit.codec import Codec, Encryption

INPUTS = int(os.environ.get("HAZELKIT_FUZZ_INPUTS", "20000"))
SEED = int(os.environ.get("HAZELKIT_FUZZ_SEED", "20240229"))
KEY = bytes(range(32))

PLAIN = Codec(registry=REGISTRY)
COMPRESSING = Codec(registry=REGISTRY, compression_threshold=0)
ENCRYPTED = Codec(registry=REGISTRY, encryption=Encryption(keys=[KEY]))
SMALL = Codec(registry=REGISTRY, max_size=4096)
# Reading with an empty registry exercises the unknown-name paths.
STRANGER = Codec()
READERS = [PLAIN, PLAIN, PLAIN, SMALL, STRANGER]
INTERESTING = [0x00, 0x01, 0x7F, 0x80, 0x90, 0x9F, 0xC0, 0xC1, 0xC4, 0xC7, 0xC8, 0xC9]
INTERESTING += [0xCA, 0xCB, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xDC, 0xDD, 0xDE, 0xDF, 0xFF]


def _corpus() -> list[bytes]:
    rng = random.Random(SEED)
    records = [
        {
            "id": n,
            "name": f"user-{n}",
            "at": dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n),
            "uid": uuid.UUID(int=rng.getrandbits(128)),
            "amount": Decimal(n) / 7,
            "point": (rng.random(), -n),
            "tags": {f"t{n % 5}", "x"},
            "nested": {"box": Box([Color.GREEN, Pair(n)]), "item": Item("i", {n: [n] * 3})},
        }
        for n in range(8)
    ]
    values = [*ONE_OF_EACH, *records, records, "text " * 400, list(range(500))]
    corpus = []
    for value in values:
        corpus.append(PLAIN.encode(value))
        corpus.append(COMPRESSING.encode(value))
        corpus.append(PLAIN.encode_key(value))
    corpus.extend(ENCRYPTED.encode(value) for value in values[::7])
    return corpus


def _mutations(corpus: list[bytes]) -> list[Callable[[random.Random], bytes]]:
    def noise(rng: random.Random) -> bytes:
        return rng.randbytes(rng.randrange(0, 80))

    def header_and_noise(rng: random.Random) -> bytes:
        return bytes((1, rng.choice((0, 0, 1, 4, 5)))) + noise(rng)

    def flip_bits(rng: random.Random) -> bytes:
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.choice((1, 1, 1, 2, 3, 5, 8))):
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        return bytes(data)

    def truncate(rng: random.Random) -> bytes:
        data = rng.choice(corpus)
        return data[: rng.randrange(len(data) + 1)]

    def insert(rng: random.Random) -> bytes:
        data = rng.choice(corpus)
        at = rng.randrange(len(data) + 1)
        return data[:at] + noise(rng)[:8] + data[at:]

    def splice(rng: random.Random) -> bytes:
        one, two = rng.choice(corpus), rng.choice(corpus)
        return one[: rng.randrange(len(one) + 1)] + two[rng.randrange(len(two) + 1) :]

    def overwrite(rng: random.Random) -> bytes:
        data = bytearray(rng.choice(corpus))
        for _ in range(rng.randrange(1, 5)):
            data[rng.randrange(len(data))] = rng.choice(INTERESTING + list(range(16)))
        return bytes(data)

    def repeat(rng: random.Random) -> bytes:
        data = rng.choice(corpus)
        start = rng.randrange(len(data))
        end = rng.randrange(start, len(data) + 1)
        return data[:end] + data[start:end] * rng.randrange(1, 4) + data[end:]

    return [noise, header_and_noise, flip_bits, truncate, insert, splice, overwrite, repeat]


@pytest.mark.timeout(600)
def test_decoding_arbitrary_bytes_never_raises_anything_else() -> None:
    corpus = _corpus()
    mutations = _mutations(corpus)
    rng = random.Random(SEED)
    decoded = 0
    for index in range(INPUTS):
        data = rng.choice(mutations)(rng)
        encrypted = len(data) > 1 and data[1] & 0x04
        codec = ENCRYPTED if encrypted and rng.random() < 0.9 else rng.choice(READERS)
        try:
            codec.decode(data)
            decoded += 1
        except SerializationError:
            pass
        except BaseException as error:
            pytest.fail(
                f"input #{index} (HAZELKIT_FUZZ_SEED={SEED}) raised {error!r} from {codec!r}."
                f"decode(bytes.fromhex({data.hex()!r}))",
                pytrace=True,
            )
    # The mutations must reach past the header checks often enough to mean something.
    assert decoded > INPUTS // 40


@pytest.mark.timeout(600)
def test_decode_key_on_arbitrary_bytes() -> None:
    corpus = _corpus()
    mutations = _mutations(corpus)
    rng = random.Random(SEED + 1)
    for index in range(max(INPUTS // 10, 100)):
        data = rng.choice(mutations)(rng)
        try:
            ENCRYPTED.decode_key(data)
        except SerializationError:
            pass
        except BaseException as error:
            pytest.fail(
                f"input #{index} (seed {SEED + 1}) raised {error!r} from decode_key("
                f"bytes.fromhex({data.hex()!r}))"
            )
