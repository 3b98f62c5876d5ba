"""Typed handles: a structure given a key or value type converts what it stores and what
it reads into that type, with msgspec's strict rules, and says so when it cannot.

The codec already keeps every type it encodes; a declared type adds a check at the
boundary and a conversion where msgspec has one (a ``dict`` into a dataclass or Struct,
a ``list`` into ``tuple[int, ...]``, an ``int`` into ``float``), never a lossy one
(``"1"`` is not an ``int``, ``True`` is not an ``int``). A value of exactly the declared
class is returned as it is, without a copy.
"""

from __future__ import annotations

from typing import Any

import msgspec

from hazelkit._core._exceptions import ArgumentError, SerializationError

__all__ = ["TypedValues", "type_name"]


def type_name(wanted: Any) -> str:
    """``User``, ``dict[str, int]``: how a declared type reads in an error message."""
    if isinstance(wanted, type):
        return wanted.__qualname__
    return repr(wanted)


def _converted(value: Any, wanted: Any) -> Any:
    if isinstance(wanted, type) and type(value) is wanted:
        return value
    return msgspec.convert(value, wanted, strict=True, from_attributes=True)


class TypedValues:
    """The declared key and value types of one handle (None: anything the codec encodes)."""

    __slots__ = ("key_type", "value_type", "where")

    def __init__(self, where: str, key_type: Any = None, value_type: Any = None) -> None:
        self.where = where
        self.key_type = key_type
        self.value_type = value_type
        for wanted in (key_type, value_type):
            if wanted is not None:
                _check_declarable(wanted)

    def key_in(self, key: Any) -> Any:
        """A key given by the caller, as the key type. Raises ArgumentError."""
        return self._given(key, self.key_type, "key")

    def value_in(self, value: Any) -> Any:
        """A value given by the caller, as the value type. Raises ArgumentError."""
        return self._given(value, self.value_type, "value")

    def key_out(self, key: Any) -> Any:
        """A key read from the grid, as the key type. Raises SerializationError."""
        return self._read(key, self.key_type, "key")

    def value_out(self, value: Any) -> Any:
        """A value read from the grid, as the value type. Raises SerializationError."""
        return self._read(value, self.value_type, "value")

    def _given(self, value: Any, wanted: Any, what: str) -> Any:
        if wanted is None:
            return value
        try:
            return _converted(value, wanted)
        except msgspec.ValidationError as error:
            raise ArgumentError(
                f"{self.where} holds {what}s of type {type_name(wanted)}; "
                f"{value!r:.80} is not one ({error})"
            ) from None

    def _read(self, value: Any, wanted: Any, what: str) -> Any:
        if wanted is None:
            return value
        try:
            return _converted(value, wanted)
        except msgspec.ValidationError as error:
            raise SerializationError(
                f"a stored {what} is not of the declared type {type_name(wanted)}: "
                f"a {type(value).__name__} ({error})"
            ) from None


def _check_declarable(wanted: Any) -> None:
    try:
        msgspec.inspect.type_info(wanted)
    except (TypeError, ValueError) as error:
        raise ArgumentError(f"{wanted!r} cannot be a declared key or value type: {error}") from None
