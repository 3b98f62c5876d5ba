"""Values for the codec tests: registered test types, Hypothesis strategies, deep equality.

``assert_same`` checks more than ``==``: every value, key and element must have exactly
the same type (tuple is not list, frozenset is not set, True is not 1), floats and
Decimals must have the same representation (NaN, -0.0, sNaN, exponent), and datetimes
the same time zone (offset, name or ZoneInfo key) and fold.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import math
import uuid
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from hypothesis import strategies as st

from hazelkit.codec import TypeRegistry

REGISTRY = TypeRegistry()


@REGISTRY.register("test.Color")
class Color(enum.Enum):
    RED = 1
    GREEN = "green"
    BLUE = (2, 3)


@REGISTRY.register("test.Perm")
class Perm(enum.Flag):
    READ = 1
    WRITE = 2


@REGISTRY.register("test.Level")
class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@REGISTRY.register("test.Box")
@dataclasses.dataclass
class Box:
    content: Any
    label: str = ""


@REGISTRY.register("test.Pair")
@dataclasses.dataclass(frozen=True)
class Pair:
    left: Any
    right: Any = None


@REGISTRY.register("test.Item")
class Item(msgspec.Struct):
    name: str
    payload: Any = None


@REGISTRY.register("test.Key")
class Key(msgspec.Struct, frozen=True):
    kind: str
    number: int = 0


NAMED_ZONE = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
ODD_OFFSET = dt.timezone(dt.timedelta(hours=-3, seconds=7, microseconds=11))


class FixedTz(dt.tzinfo):
    """A tzinfo that is neither timezone nor ZoneInfo: encoded as its offset."""

    def utcoffset(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(hours=2)

    def dst(self, when: dt.datetime | None) -> dt.timedelta:
        return dt.timedelta(0)

    def tzname(self, when: dt.datetime | None) -> str:
        return "FIXED"


# --- strategies -------------------------------------------------------------------

_zones = st.sampled_from(
    [
        dt.UTC,
        dt.timezone(dt.timedelta(hours=-8)),
        NAMED_ZONE,
        ODD_OFFSET,
        ZoneInfo("Europe/Paris"),
        ZoneInfo("America/New_York"),
        ZoneInfo("Asia/Kolkata"),
        ZoneInfo("UTC"),
    ]
)
_timezones = st.none() | _zones | st.timezones()

_special_decimals = st.sampled_from(
    [
        Decimal(text)
        for text in ("NaN", "-NaN", "sNaN", "NaN123", "-0", "Infinity", "-Infinity", "1.2E+5")
    ]
)

_hashable_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-(2**40), max_value=2**40).map(lambda n: n * 2**300),
    st.floats(allow_nan=False),
    st.text(),
    st.binary(),
    st.datetimes(timezones=_timezones, allow_imaginary=False),
    st.dates(),
    st.times(timezones=st.none() | _zones),
    st.timedeltas(),
    st.decimals(allow_nan=False),
    st.uuids(),
    st.sampled_from(list(Color) + list(Perm) + [Perm.READ | Perm.WRITE] + list(Level)),
)

hashable_scalars = st.deferred(lambda: _hashable_scalars)
scalars = st.deferred(lambda: hashable_scalars | st.floats() | st.decimals() | _special_decimals)

# deferred() keeps the strategies' reprs short in Hypothesis reports.
hashables = st.deferred(lambda: _hashables)
_hashables = st.recursive(
    hashable_scalars,
    lambda inner: st.one_of(
        st.tuples(inner, inner),
        st.lists(inner, max_size=4).map(tuple),
        st.frozensets(inner, max_size=4),
        st.builds(Pair, inner, inner),
        st.builds(Key, st.text(max_size=5), st.integers(-5, 5)),
    ),
    max_leaves=8,
)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(inner, max_size=5),
        st.lists(inner, max_size=5).map(tuple),
        st.dictionaries(hashables, inner, max_size=5),
        st.sets(hashables, max_size=5),
        st.frozensets(hashables, max_size=5),
        st.builds(Box, inner, st.text(max_size=5)),
        st.builds(Pair, inner, inner),
        st.builds(Item, st.text(max_size=5), inner),
    )


values = st.deferred(lambda: st.recursive(scalars | hashables, _containers, max_leaves=25))


# --- deep equality ----------------------------------------------------------------


def assert_same(expected: Any, actual: Any, path: str = "value") -> None:
    """Fail unless ``actual`` equals ``expected`` with the same types all the way down."""
    kind = type(expected)
    assert type(actual) is kind, f"{path}: {type(actual)!r} is not {kind!r}"
    if kind is float:
        assert _same_float(expected, actual), f"{path}: {actual!r} != {expected!r}"
    elif kind is Decimal:
        assert str(actual) == str(expected), f"{path}: {actual!r} != {expected!r}"
    elif kind in (dt.datetime, dt.time):
        _assert_same_time(expected, actual, path)
    elif kind in (list, tuple):
        assert len(actual) == len(expected), f"{path}: length {len(actual)} != {len(expected)}"
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            assert_same(want, got, f"{path}[{index}]")
    elif kind is dict:
        _assert_same_dict(expected, actual, path)
    elif kind in (set, frozenset):
        assert len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        by_value = {item: item for item in actual}
        for item in expected:
            assert item in by_value, f"{path}: {item!r} missing from {actual!r}"
            assert_same(item, by_value[item], f"{path}.<{item!r}>")
    elif isinstance(expected, enum.Enum):
        assert actual is expected, f"{path}: {actual!r} is not {expected!r}"
    elif dataclasses.is_dataclass(expected):
        for field in dataclasses.fields(expected):
            name = field.name
            assert_same(getattr(expected, name), getattr(actual, name), f"{path}.{name}")
    elif isinstance(expected, msgspec.Struct):
        for name in expected.__struct_fields__:
            assert_same(getattr(expected, name), getattr(actual, name), f"{path}.{name}")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def _same_float(expected: float, actual: float) -> bool:
    if math.isnan(expected):
        return math.isnan(actual)
    return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)


def _assert_same_dict(expected: dict[Any, Any], actual: dict[Any, Any], path: str) -> None:
    assert len(actual) == len(expected), f"{path}: {len(actual)} keys, not {len(expected)}"
    keys = {key: key for key in actual}
    for key, want in expected.items():
        assert key in keys, f"{path}: key {key!r} missing"
        assert_same(key, keys[key], f"{path}.<key {key!r}>")
        assert_same(want, actual[keys[key]], f"{path}[{key!r}]")


def _assert_same_time(expected: Any, actual: Any, path: str) -> None:
    assert actual.fold == expected.fold, f"{path}: fold {actual.fold} != {expected.fold}"
    assert actual.replace(tzinfo=None) == expected.replace(tzinfo=None), f"{path}: {actual!r}"
    want, got = expected.tzinfo, actual.tzinfo
    if want is None or (isinstance(expected, dt.datetime) and expected.utcoffset() is None):
        assert got is None, f"{path}: {got!r} is not naive"
    elif type(want) is ZoneInfo:
        assert type(got) is ZoneInfo, f"{path}: {got!r} is not a ZoneInfo"
        assert got.key == want.key, f"{path}: zone {got.key} != {want.key}"
    elif type(want) is dt.timezone:
        assert got == want, f"{path}: {got!r} != {want!r}"
        assert got.tzname(None) == want.tzname(None), f"{path}: {got!r} != {want!r}"
    else:
        assert type(got) is dt.timezone, f"{path}: {got!r} is not a fixed offset"
        assert actual.utcoffset() == expected.utcoffset(), f"{path}: offset differs"


# --- one of everything ------------------------------------------------------------

ONE_OF_EACH: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**63 - 1,
    2**64 - 1,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**100,
    -(10**100),
    1.5,
    float("nan"),
    float("inf"),
    float("-inf"),
    -0.0,
    "",
    "héllo ✓ \U0001f600",
    b"",
    b"\x00\xff",
    [],
    [1, [2, [3]]],
    (),
    (1,),
    (1, "a", (2.5, None)),
    {},
    {1: "a", "b": 2, (1, 2): frozenset({3}), None: [1], b"k": 1.5, 2.5: True},
    set(),
    {1, 2, 3},
    {"a", (1, 2), frozenset({"x"})},
    frozenset(),
    frozenset({1, "a", (2, 3)}),
    dt.datetime(2024, 2, 29, 13, 45, 7, 123456),
    dt.datetime(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
    dt.datetime(1969, 7, 20, 20, 17, 40, tzinfo=dt.UTC),
    dt.datetime(1, 1, 1, tzinfo=dt.UTC),
    dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    dt.datetime(2024, 1, 2, tzinfo=NAMED_ZONE),
    dt.datetime(2024, 1, 2, tzinfo=ODD_OFFSET),
    dt.datetime(2024, 1, 2, tzinfo=FixedTz()),
    dt.datetime(2024, 11, 3, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2024, 11, 3, 1, 30, fold=0, tzinfo=ZoneInfo("America/New_York")),
    dt.datetime(2024, 3, 10, 12, tzinfo=ZoneInfo("Europe/Paris")),
    dt.datetime(2024, 1, 2, fold=1),
    dt.datetime(2024, 1, 2, fold=1, tzinfo=dt.UTC),
    dt.date(2024, 2, 29),
    dt.date(1, 1, 1),
    dt.time(0),
    dt.time(23, 59, 59, 999999),
    dt.time(1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.time(1, 2, tzinfo=ZoneInfo("Europe/Paris")),
    dt.time(1, 2, fold=1),
    dt.timedelta(0),
    dt.timedelta(days=-3, microseconds=5),
    dt.timedelta.max,
    dt.timedelta.min,
    Decimal("0"),
    Decimal("-0"),
    Decimal("1.2300"),
    Decimal("NaN"),
    Decimal("-sNaN12"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
    Decimal("1E+999999"),
    uuid.UUID(int=0),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Color.RED,
    Color.BLUE,
    Perm.READ | Perm.WRITE,
    Level.HIGH,
    Box([1, (2, {3})], "x"),
    Pair(Pair(1), frozenset({Key("a", 1)})),
    Item("i", {"nested": Box(Color.GREEN)}),
    Key("k"),
    {"deep": [({"a": {1, 2}}, frozenset({(1, 2)}))] * 3},
    "x" * 5000,
    list(range(3000)),
]
