"""The session of one request: a dict that remembers what the request changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hazelkit._core._exceptions import EncodeError, HazelkitError
from hazelkit.web._record import DELETED, Changes, Record, RecordCodec
from hazelkit.web._store import StoredSession

if TYPE_CHECKING:
    from _collections_abc import dict_items, dict_keys, dict_values

__all__ = ["Session"]

_MISSING: Any = object()


class Session(dict[str, Any]):
    """The session of one request, as ``request.session`` (ASGI) or ``flask.session``.

    A ``dict`` of string keys to values the hazelkit codec encodes (never pickled), as
    Starlette's and Flask's own sessions are: ``JSONResponse(request.session)``,
    ``isinstance(session, dict)`` and every dict method work. It is loaded when the
    request starts and saved once, before the response headers leave. Under ASGI a
    request whose handler raises saves nothing; Flask saves with whatever response it
    sends, error pages included, as it does for its own sessions.

    Saving writes only what this request changed, key by key: keys it set or deleted
    (through any dict method), and keys whose value it changed in place
    (``session["cart"].append(item)`` counts, detected by comparing with the loaded
    value). Concurrent requests of the same session are merged: for each key the last
    save wins, and keys a request did not change are never overwritten by it.

    ``clear()`` ends the session (logout): the stored entry is deleted, so a copy of
    the cookie is dead at once; keys set after ``clear()`` go to a new session with a
    new id. ``regenerate()`` (login) moves the session to a new id and deletes the old
    one, which defeats session fixation.

    Setting a value checks at once that it encodes and that the session stays within
    ``max_size`` (EncodeError, SessionTooLargeError); the session is then unchanged.
    ``copy()`` and ``|`` give a plain ``dict``.
    """

    def __init__(
        self,
        records: RecordCodec,
        loaded: StoredSession | None,
        *,
        had_cookie: bool = False,
        read_only: bool = False,
    ) -> None:
        super().__init__({} if loaded is None else loaded.record.data)
        self._records = records
        self._loaded = loaded
        self._changes: Changes = {}
        self._had_cookie = had_cookie
        self._read_only = read_only
        self._ended = False
        self._regenerate = False
        #: True once the request read or wrote the session (the response varies by cookie).
        self.accessed = False

    # -- reading ---------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        """The value under ``key``, or ``default``."""
        self.accessed = True
        return super().get(key, default)

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return super().__iter__()

    def __reversed__(self) -> Iterator[str]:
        self.accessed = True
        return super().__reversed__()

    def __len__(self) -> int:
        self.accessed = True
        return super().__len__()

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def keys(self) -> dict_keys[str, Any]:
        """The session's keys (a live view)."""
        self.accessed = True
        return super().keys()

    def values(self) -> dict_values[str, Any]:
        """The session's values (a live view)."""
        self.accessed = True
        return super().values()

    def items(self) -> dict_items[str, Any]:
        """The session's items (a live view)."""
        self.accessed = True
        return super().items()

    def copy(self) -> dict[str, Any]:
        """A plain ``dict`` with the session's items (changing it changes nothing)."""
        self.accessed = True
        return dict(super().items())

    def __eq__(self, other: object) -> bool:
        self.accessed = True
        return super().__eq__(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    # -- writing ---------------------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        if not isinstance(key, str):
            raise EncodeError(f"session keys must be str, got {type(key).__name__}")
        data = dict(super().items())
        self._records.encode(Record(0.0, {**data, key: value}))  # raises, changes nothing
        self.accessed = True
        super().__setitem__(key, value)
        self._changes[key] = value

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        self.accessed = True
        super().__delitem__(key)
        self._changes[key] = DELETED

    def update(self, other: Any = (), /, **values: Any) -> None:
        """Set every key of ``other`` (a mapping or pairs) and of ``values``, one by one."""
        for key, value in dict(other, **values).items():
            self[key] = value

    def __ior__(self, other: Any) -> Session:  # type: ignore[override,misc]
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        """``session[key]``, after setting it to ``default`` if it was missing."""
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        """Remove ``key`` and return its value (``default``, or KeyError, if missing)."""
        self._check_writable()
        if key not in self:
            if default is _MISSING:
                raise KeyError(key)
            return default
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last item set (KeyError if empty)."""
        self._check_writable()
        if not self:
            raise KeyError("popitem(): the session is empty")
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:
        """End the session: at save, its stored entry is deleted and the browser told to
        drop the cookie. Keys set afterwards start a new session under a new id."""
        self._check_writable()
        self.accessed = True
        self._ended = self._ended or self._loaded is not None or self._had_cookie
        self._regenerate = False
        super().clear()
        self._changes.clear()

    def regenerate(self) -> None:
        """Give the session a new id at save, keeping its data, and delete the old id.

        Call it when the user logs in (or gains privileges), so that an id planted
        before login (session fixation) is worthless after it. Its absolute lifetime
        starts again.
        """
        self._check_writable()
        self.accessed = True
        self._regenerate = True

    def _check_writable(self) -> None:
        if self._read_only:
            raise HazelkitError(
                "this session is read-only (a WebSocket connection cannot set cookies); "
                "change the session in an HTTP request"
            )

    # -- state -----------------------------------------------------------------------------

    @property
    def id(self) -> str | None:
        """The session id (None for a session not stored yet). A bearer secret: never
        log it or put it in a URL."""
        return None if self._loaded is None else self._loaded.session_id

    @property
    def new(self) -> bool:
        """True if no stored session was found for this request."""
        return self._loaded is None

    @property
    def modified(self) -> bool:
        """True if this request set, deleted, cleared or regenerated (in-place changes of
        values are found only at save)."""
        return bool(self._changes) or self._ended or self._regenerate

    @modified.setter
    def modified(self, value: bool) -> None:
        # Accepted for Flask code that sets it after changing a value in place; such
        # changes are found at save anyway, and forcing a full write would break the
        # rule that a request never overwrites keys it did not change.
        pass

    @property
    def read_only(self) -> bool:
        """True for the session of a WebSocket connection."""
        return self._read_only

    def __repr__(self) -> str:
        shown = "new" if self._loaded is None else f"{self._loaded.session_id[:6]}…"
        return f"<{type(self).__name__} {shown} with {super().__len__()} key(s)>"

    def _peek(self, key: str) -> Any:
        """The value under ``key`` (None if missing), without counting as an access."""
        return super().get(key)

    # -- for the session manager --------------------------------------------------------

    def _collect_changes(self) -> Changes:
        """Everything this request changed: explicit writes and in-place mutations."""
        changes = dict(self._changes)
        if self._loaded is None or self._ended or not self.accessed:
            return changes
        pristine = self._records.decode(self._loaded.raw, self._loaded.session_id).data
        fingerprint = self._records.fingerprint
        for key, value in super().items():
            if key not in changes and fingerprint(value) != fingerprint(pristine.get(key)):
                changes[key] = value
        return changes

    def _saved(self, loaded: StoredSession | None) -> None:
        """Record the outcome of the save: the session now is ``loaded`` (or gone)."""
        self._loaded = loaded
        self._changes.clear()
        self._ended = self._regenerate = False
