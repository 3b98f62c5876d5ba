"""The codec never uses pickle, in either direction, for any type."""

from __future__ import annotations

import _pickle
import copyreg
import os
import pickle
from typing import Any, NoReturn

import pytest
from codec_values import ONE_OF_EACH, REGISTRY, assert_same

from hazelkit.codec import Codec, Encryption

CODECS = [
    Codec(registry=REGISTRY),
    Codec(registry=REGISTRY, compression_threshold=0),
    Codec(registry=REGISTRY, encryption=Encryption(keys=[os.urandom(32)])),
]


def _forbidden(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("pickle was used")


class _ForbiddenPickler:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _forbidden()


@pytest.fixture
def no_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("loads", "dumps", "load", "dump", "_loads", "_dumps", "_load", "_dump"):
        if hasattr(pickle, name):
            monkeypatch.setattr(pickle, name, _forbidden)
    for name in ("Pickler", "Unpickler", "_Pickler", "_Unpickler"):
        monkeypatch.setattr(pickle, name, _ForbiddenPickler)
    for name in ("loads", "dumps", "load", "dump"):
        monkeypatch.setattr(_pickle, name, _forbidden)
    for name in ("Pickler", "Unpickler"):
        monkeypatch.setattr(_pickle, name, _ForbiddenPickler)
    monkeypatch.setattr(copyreg, "__reduce_ex__", _forbidden)
    monkeypatch.setattr(copyreg, "_reconstructor", _forbidden)


@pytest.mark.usefixtures("no_pickle")
@pytest.mark.parametrize("codec", CODECS, ids=["plain", "compressed", "encrypted"])
def test_every_type_round_trips_without_pickle(codec: Codec) -> None:
    with pytest.raises(AssertionError, match="pickle was used"):
        pickle.dumps(1)
    for value in ONE_OF_EACH:
        assert_same(value, codec.decode(codec.encode(value)))
        assert_same(value, codec.decode_key(codec.encode_key(value)))
