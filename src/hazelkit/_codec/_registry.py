"""User types encoded by registered name: dataclasses, msgspec Structs and Enums.

A registered name is the wire identity of a class: data names the class, and the
decoder finds it only in the registry, so nothing is ever imported by name.

Dataclasses and Structs are stored as ``[name, {field: value}]`` with their
``__init__`` fields by name and rebuilt by calling the class with those fields.
Schema evolution: a field may be added if it has a default (old data then gets
the default); removing or renaming a field, or adding one without a default,
makes old data fail to decode with CorruptDataError. Data with a field the class
does not have (written by a newer version of the class) is refused too, so
upgrade readers before writers. Enums are stored as ``[name, member.value]`` and
rebuilt with ``cls(value)``: values are what survives renaming members.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import operator
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload

import msgpack
import msgspec

from hazelkit._codec._types import DATACLASS, ENUM, STRUCT
from hazelkit._core._exceptions import (
    ArgumentError,
    ConfigurationError,
    CorruptDataError,
    SerializationError,
)

__all__ = ["RegisteredType", "TypeRegistry", "default_registry", "register"]

_C = TypeVar("_C", bound=type)
KIND_NAMES = {ENUM: "an Enum", DATACLASS: "a dataclass", STRUCT: "a msgspec Struct"}


def short_repr(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters for error messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclasses.dataclass(frozen=True, slots=True)
class RegisteredType:
    """How one registered class is written and rebuilt."""

    cls: type
    name: str
    code: int
    prefix: bytes  # msgpack array header and name: the start of every payload
    state: Callable[[Any], Any]
    build: Callable[[Any], Any]
    fields: tuple[str, ...]

    @property
    def kind(self) -> str:
        return KIND_NAMES[self.code]


def _getter(names: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    if len(names) == 1:
        (only,) = names
        return lambda obj: {only: getattr(obj, only)}
    values = operator.attrgetter(*names)
    return lambda obj: dict(zip(names, values(obj), strict=True))


def _field_error(
    entry_name: str,
    cls: type,
    state: dict[Any, Any],
    allowed: tuple[str, ...],
    required: frozenset[str],
    exc: Exception,
) -> SerializationError:
    unknown = sorted(short_repr(key) for key in state if key not in allowed)
    if unknown:
        return CorruptDataError(
            f"cannot decode {entry_name}: the data has field(s) {', '.join(unknown)} that "
            f"{cls.__qualname__} does not define (was it written by a newer version of the "
            "class? fields may be added only with defaults, never removed or renamed)"
        )
    missing = sorted(required.difference(state))
    if missing:
        return CorruptDataError(
            f"cannot decode {entry_name}: the data lacks required field(s) "
            f"{', '.join(missing)} of {cls.__qualname__} (fields added later need defaults)"
        )
    return CorruptDataError(
        f"cannot decode {entry_name}: {cls.__qualname__}() rejected the decoded fields: "
        f"{short_repr(exc, 200)}"
    )


def _fields_of(cls: Any) -> tuple[str, ...]:
    if issubclass(cls, msgspec.Struct):
        return tuple(f.name for f in msgspec.structs.fields(cls))
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)


def _required_of(cls: Any) -> frozenset[str]:
    if issubclass(cls, msgspec.Struct):
        return frozenset(f.name for f in msgspec.structs.fields(cls) if f.required)
    return frozenset(
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )


def _check_dataclass_init(cls: type, names: tuple[str, ...]) -> None:
    params = inspect.signature(cls).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in params.values())
    for field in names:
        if field not in params and not takes_kwargs:
            raise ConfigurationError(
                f"cannot register {cls.__qualname__}: its __init__ does not take field {field!r}"
            )
    for param in params.values():
        required = param.default is param.empty and param.kind not in (
            param.VAR_POSITIONAL,
            param.VAR_KEYWORD,
        )
        if required and param.name not in names:
            raise ConfigurationError(
                f"cannot register {cls.__qualname__}: its __init__ requires {param.name!r}, "
                "which is not a stored field (give InitVars a default)"
            )


def _field_entry(cls: type, name: str, code: int) -> RegisteredType:
    names = _fields_of(cls)
    required = _required_of(cls)
    if code == DATACLASS:
        _check_dataclass_init(cls, names)

    def build(state: Any) -> Any:
        if type(state) is not dict:
            raise CorruptDataError(
                f"cannot decode {name}: expected a map of fields, got {type(state).__name__}"
            )
        try:
            return cls(**state)
        except Exception as exc:
            raise _field_error(name, cls, state, names, required, exc) from exc

    state: Callable[[Any], Any] = _getter(names) if names else lambda obj: {}
    return RegisteredType(cls, name, code, _prefix(name), state, build, names)


def _enum_entry(cls: type[enum.Enum], name: str) -> RegisteredType:
    def build(value: Any) -> Any:
        try:
            return cls(value)
        except Exception as exc:
            raise CorruptDataError(
                f"cannot decode {name}: {short_repr(value)} is not a value of {cls.__qualname__}"
            ) from exc

    return RegisteredType(cls, name, ENUM, _prefix(name), operator.attrgetter("value"), build, ())


def _prefix(name: str) -> bytes:
    return b"\x92" + msgpack.packb(name)  # type: ignore[no-any-return]


class TypeRegistry:
    """The classes a codec may encode and decode by name.

    Only dataclasses, msgspec Structs and Enum classes can be registered. A name is
    the identity of a class on the wire, so each name belongs to one class and each
    class has one name, in every process that reads the data. Registration is
    thread-safe; registered classes cannot be unregistered.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Read without the lock by the codec's hot paths: only ever added to.
        self._by_name: dict[str, RegisteredType] = {}
        self._by_type: dict[type, RegisteredType] = {}

    @overload
    def register(self, cls: _C, /, name: str | None = None) -> _C: ...

    @overload
    def register(
        self, cls: str | None = None, /, *, name: str | None = None
    ) -> Callable[[_C], _C]: ...

    def register(
        self, cls: type | str | None = None, /, name: str | None = None
    ) -> type | Callable[[_C], _C]:
        """Register a dataclass, msgspec Struct or Enum class, and return it.

        Usable as ``register(User)``, ``register(User, "app.User")``, and as a
        decorator: ``@register``, ``@register("app.User")``, ``@register(name=...)``.
        ``name`` defaults to ``f"{cls.__module__}.{cls.__qualname__}"``; pass an
        explicit, stable name if the class may move between modules, since data
        written under one name only decodes under that name.

        Registering the same class under the same name again does nothing. Raises
        ConfigurationError if the class is of another kind, if the name is taken by
        another class, if the class already has another name, or if a dataclass's
        ``__init__`` needs arguments that are not fields.
        """
        if isinstance(cls, str):
            if name is not None:
                raise ArgumentError("register() got the name twice")
            cls, name = None, cls
        if cls is None:

            def decorator(target: _C) -> _C:
                self._add(target, name)
                return target

            return decorator
        self._add(cls, name)
        return cls

    def _add(self, cls: type, name: str | None) -> None:
        if not isinstance(cls, type):
            raise ConfigurationError(f"register() takes a class, got {short_repr(cls)}")
        name = f"{cls.__module__}.{cls.__qualname__}" if name is None else name
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"a registered name must be a non-empty str, got {name!r}")
        entry = _entry(cls, name)
        with self._lock:
            by_name = self._by_name.get(name)
            by_type = self._by_type.get(cls)
            if by_name is not None and by_name.cls is cls:
                return
            if by_name is not None:
                raise ConfigurationError(
                    f"the name {name!r} is already registered for {by_name.cls!r}; "
                    f"pick another name for {cls!r}"
                )
            if by_type is not None:
                raise ConfigurationError(
                    f"{cls!r} is already registered as {by_type.name!r}; a class has one name"
                )
            self._by_type[cls] = entry
            self._by_name[name] = entry

    def __contains__(self, item: object) -> bool:
        """Whether a class, or a name, is registered."""
        if isinstance(item, str):
            return item in self._by_name
        return isinstance(item, type) and item in self._by_type

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[str]:
        """The registered names."""
        return iter(list(self._by_name))

    def __repr__(self) -> str:
        return f"<TypeRegistry of {len(self)} classes>"


def _entry(cls: type, name: str) -> RegisteredType:
    if issubclass(cls, enum.Enum):
        return _enum_entry(cls, name)
    if issubclass(cls, msgspec.Struct):
        return _field_entry(cls, name, STRUCT)
    if dataclasses.is_dataclass(cls):
        return _field_entry(cls, name, DATACLASS)
    raise ConfigurationError(
        f"cannot register {cls!r}: only dataclasses, msgspec Structs and Enum classes can be "
        "registered; convert other objects to supported values before encoding"
    )


default_registry = TypeRegistry()
"""The registry every Codec uses unless it is given its own."""

register = default_registry.register
"""Register a class in :data:`default_registry` (see :meth:`TypeRegistry.register`)."""
