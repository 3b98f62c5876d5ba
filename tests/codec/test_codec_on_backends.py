"""Every codec type round-trips through real storage: the embedded grid and Hazelcast."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from codec_values import ONE_OF_EACH, REGISTRY, assert_same, hashables, values
from hypothesis import HealthCheck, given, settings

import hazelkit
from hazelkit.blocking import BlockingCluster
from hazelkit.codec import Codec, Encryption

STORED = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.fixture(params=["plain", "encrypted"])
def stored(url: str, request: pytest.FixtureRequest) -> Iterator[BlockingCluster]:
    encryption = Encryption(keys=[os.urandom(32)]) if request.param == "encrypted" else None
    codec = Codec(registry=REGISTRY, encryption=encryption)
    with hazelkit.connect_blocking(url, codec=codec) as cluster:
        yield cluster


@pytest.mark.parametrize("value", ONE_OF_EACH, ids=lambda v: type(v).__name__)
def test_one_of_each_round_trips_through_the_grid(
    stored: BlockingCluster, name: str, value: Any
) -> None:
    values_map = stored.map(name)
    values_map["v"] = value
    assert_same(value, values_map["v"])


@STORED
@given(value=values)
def test_any_value_round_trips_through_the_grid(
    stored: BlockingCluster, name: str, value: Any
) -> None:
    values_map = stored.map(name)
    values_map["v"] = value
    assert_same(value, values_map["v"])


@STORED
@given(key=hashables)
def test_any_hashable_works_as_a_key(stored: BlockingCluster, name: str, key: Any) -> None:
    keys_map = stored.map(name)
    keys_map[key] = "here"
    assert keys_map[key] == "here"
    assert key in keys_map
    stored_keys = keys_map.keys_list()
    assert any(k == key for k in stored_keys)
    del keys_map[key]
    assert key not in keys_map
