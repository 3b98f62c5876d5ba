"""Registered types: the ways to register, name rules, round-trips and schema evolution."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import msgspec
import pytest
from codec_values import assert_same

from hazelkit import ConfigurationError, CorruptDataError, UnknownTypeError
from hazelkit.codec import Codec, TypeRegistry, default_registry, register


def test_decorator_and_call_forms() -> None:
    registry = TypeRegistry()

    @registry.register
    @dataclasses.dataclass
    class Plain:
        x: int

    @registry.register("app.Named")
    @dataclasses.dataclass
    class Named:
        x: int

    @registry.register(name="app.Keyword")
    class Keyword(msgspec.Struct):
        x: int

    @registry.register()
    class Empty(enum.Enum):
        A = "a"

    class Called(enum.IntEnum):
        ONE = 1

    assert registry.register(Called, "app.Called") is Called
    assert f"{Plain.__module__}.{Plain.__qualname__}" in registry
    assert {"app.Named", "app.Keyword", "app.Called"} <= set(registry)
    assert Plain in registry
    assert Empty in registry
    assert len(registry) == 5
    codec = Codec(registry=registry)
    for value in (Plain(1), Named(2), Keyword(3), Empty.A, Called.ONE):
        assert_same(value, codec.decode(codec.encode(value)))


def test_default_registry_and_module_level_register() -> None:
    @register("tests.codec.DefaultThing")
    @dataclasses.dataclass
    class DefaultThing:
        value: Any

    assert DefaultThing in default_registry
    codec = Codec()
    assert_same(DefaultThing({1, 2}), codec.decode(codec.encode(DefaultThing({1, 2}))))


def test_registering_again_the_same_way_is_harmless() -> None:
    registry = TypeRegistry()

    @dataclasses.dataclass
    class Thing:
        x: int

    registry.register(Thing, "app.Thing")
    registry.register(Thing, "app.Thing")
    assert len(registry) == 1


def test_one_name_for_two_classes_is_refused() -> None:
    registry = TypeRegistry()

    @registry.register("app.Thing")
    @dataclasses.dataclass
    class First:
        x: int

    @dataclasses.dataclass
    class Second:
        x: int

    with pytest.raises(ConfigurationError, match=r"'app\.Thing' is already registered"):
        registry.register(Second, "app.Thing")


def test_two_names_for_one_class_are_refused() -> None:
    registry = TypeRegistry()

    @dataclasses.dataclass
    class Thing:
        x: int

    registry.register(Thing, "app.Thing")
    with pytest.raises(ConfigurationError, match=r"already registered as 'app\.Thing'"):
        registry.register(Thing, "app.Other")


@pytest.mark.parametrize("target", [int, dict, object, type("Plain", (), {}), 42])
def test_only_dataclasses_structs_and_enums_can_be_registered(target: Any) -> None:
    with pytest.raises(ConfigurationError):
        TypeRegistry().register(target)


def test_bad_names_are_refused() -> None:
    @dataclasses.dataclass
    class Thing:
        x: int

    with pytest.raises(ConfigurationError):
        TypeRegistry().register(Thing, "")


def test_dataclass_needing_an_init_var_is_refused() -> None:
    @dataclasses.dataclass
    class NeedsSeed:
        x: int
        seed: dataclasses.InitVar[int]

    with pytest.raises(ConfigurationError, match="requires 'seed'"):
        TypeRegistry().register(NeedsSeed)


def test_fields_outside_init_are_rebuilt_by_the_class() -> None:
    registry = TypeRegistry()

    @registry.register("app.Computed")
    @dataclasses.dataclass
    class Computed:
        x: int
        double: int = dataclasses.field(init=False)
        seed: dataclasses.InitVar[int] = 0

        def __post_init__(self, seed: int) -> None:
            self.double = self.x * 2

    codec = Codec(registry=registry)
    decoded = codec.decode(codec.encode(Computed(21)))
    assert decoded == Computed(21)
    assert decoded.double == 42


def test_nested_registered_types() -> None:
    registry = TypeRegistry()

    @registry.register("app.Color")
    class Color(enum.Enum):
        RED = (255, 0, 0)

    @registry.register("app.Tag")
    class Tag(msgspec.Struct, frozen=True):
        name: str

    @registry.register("app.Shape")
    @dataclasses.dataclass
    class Shape:
        color: Color
        tags: frozenset[Tag]
        children: list[Any] = dataclasses.field(default_factory=list)

    codec = Codec(registry=registry)
    shape = Shape(Color.RED, frozenset({Tag("a")}), [Shape(Color.RED, frozenset())])
    assert_same(shape, codec.decode(codec.encode(shape)))
    assert_same({Tag("k"): shape}, codec.decode(codec.encode_key({Tag("k"): shape})))


def test_unknown_enum_value() -> None:
    writer, reader = TypeRegistry(), TypeRegistry()

    @writer.register("app.State")
    class NewState(enum.Enum):
        OPEN = "open"
        ARCHIVED = "archived"

    @reader.register("app.State")
    class OldState(enum.Enum):
        OPEN = "open"

    data = Codec(registry=writer).encode(NewState.ARCHIVED)
    assert Codec(registry=reader).decode(Codec(registry=writer).encode(NewState.OPEN)) is (
        OldState.OPEN
    )
    with pytest.raises(CorruptDataError, match="'archived' is not a value of"):
        Codec(registry=reader).decode(data)


def _two_versions(old: type, new: type) -> tuple[Codec, Codec]:
    writer, reader = TypeRegistry(), TypeRegistry()
    writer.register(old, "app.Account")
    reader.register(new, "app.Account")
    return Codec(registry=writer), Codec(registry=reader)


@dataclasses.dataclass
class AccountV1:
    owner: str
    balance: int


@dataclasses.dataclass
class AccountV2:
    owner: str
    balance: int
    currency: str = "EUR"
    history: list[int] = dataclasses.field(default_factory=list)


class AccountStructV1(msgspec.Struct):
    owner: str
    balance: int


class AccountStructV2(msgspec.Struct):
    owner: str
    balance: int
    currency: str = "EUR"


@pytest.mark.parametrize(
    ("old", "new"), [(AccountV1, AccountV2), (AccountStructV1, AccountStructV2)]
)
def test_fields_with_defaults_may_be_added(old: type, new: type) -> None:
    writer, reader = _two_versions(old, new)
    decoded = reader.decode(writer.encode(old("ann", 5)))
    assert type(decoded) is new
    assert (decoded.owner, decoded.balance, decoded.currency) == ("ann", 5, "EUR")


@pytest.mark.parametrize(
    ("old", "new"), [(AccountV1, AccountV2), (AccountStructV1, AccountStructV2)]
)
def test_data_with_fields_the_class_lacks_is_refused(old: type, new: type) -> None:
    newer, older = _two_versions(new, old)
    with pytest.raises(CorruptDataError, match=r"has field.*'currency'.*newer version"):
        older.decode(newer.encode(new("ann", 5)))


def test_missing_required_field_is_refused() -> None:
    @dataclasses.dataclass
    class Before:
        owner: str

    @dataclasses.dataclass
    class After:
        owner: str
        region: str

    writer, reader = _two_versions(Before, After)
    with pytest.raises(CorruptDataError, match=r"lacks required field.*region"):
        reader.decode(writer.encode(Before("ann")))


def test_constructor_errors_are_corrupt_data() -> None:
    registry = TypeRegistry()

    @registry.register("app.Positive")
    @dataclasses.dataclass
    class Positive:
        n: int

        def __post_init__(self) -> None:
            if self.n <= 0:
                raise ValueError("n must be positive")

    codec = Codec(registry=registry)
    data = codec.encode(Positive(1))
    assert data.endswith(b"\xa1n\x01")
    data = data[:-1] + b"\xff"  # n = -1
    with pytest.raises(CorruptDataError, match=r"rejected the decoded fields.*positive"):
        codec.decode(data)


def test_state_of_the_wrong_shape_is_corrupt() -> None:
    registry = TypeRegistry()

    @registry.register("a.B")
    @dataclasses.dataclass
    class B:
        x: int

    codec = Codec(registry=registry)
    # ext 12 (dataclass) holding ["a.B", [1]]: a list where a map of fields belongs
    payload = b"\x92\xa3a.B\x91\x01"
    with pytest.raises(CorruptDataError, match="expected a map of fields"):
        codec.decode(b"\x01\x00\xc7" + bytes((len(payload), 12)) + payload)
    payload = b"\x92\xa3a.C\x80"
    with pytest.raises(UnknownTypeError, match=r"'a\.C'"):
        codec.decode(b"\x01\x00\xc7" + bytes((len(payload), 12)) + payload)
