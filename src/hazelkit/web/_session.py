"""The session of one request: a mutable mapping that remembers what the request changed."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from hazelkit._core._exceptions import EncodeError, HazelkitError
from hazelkit.web._record import DELETED, Changes, Record, RecordCodec
from hazelkit.web._store import StoredSession

__all__ = ["Session"]


class Session(MutableMapping[str, Any]):
    """The session of one request, as ``request.session`` (ASGI) or ``flask.session``.

    A mapping of string keys to values the hazelkit codec encodes (never pickled). It
    is loaded when the request starts and saved once, before the response headers
    leave. Under ASGI a request whose handler raises saves nothing; Flask saves with
    whatever response it sends, error pages included, as it does for its own sessions.

    Saving writes only what this request changed, key by key: keys it set or deleted,
    and keys whose value it changed in place (``session["cart"].append(item)`` counts,
    detected by comparing with the loaded value). Concurrent requests of the same
    session are merged: for each key the last save wins, and keys a request did not
    change are never overwritten by it.

    ``clear()`` ends the session (logout): the stored entry is deleted, so a copy of
    the cookie is dead at once; keys set after ``clear()`` go to a new session with a
    new id. ``regenerate()`` (login) moves the session to a new id and deletes the old
    one, which defeats session fixation.

    Setting a value checks at once that it encodes and that the session stays within
    ``max_size`` (EncodeError, SessionTooLargeError); the session is then unchanged.
    """

    def __init__(
        self,
        records: RecordCodec,
        loaded: StoredSession | None,
        *,
        had_cookie: bool = False,
        read_only: bool = False,
    ) -> None:
        self._records = records
        self._loaded = loaded
        self._data: dict[str, Any] = {} if loaded is None else dict(loaded.record.data)
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
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    # -- writing ---------------------------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self._check_writable()
        if not isinstance(key, str):
            raise EncodeError(f"session keys must be str, got {type(key).__name__}")
        self._records.encode(Record(0.0, {**self._data, key: value}))  # raises, changes nothing
        self.accessed = True
        self._data[key] = value
        self._changes[key] = value

    def __delitem__(self, key: str) -> None:
        self._check_writable()
        self.accessed = True
        del self._data[key]
        self._changes[key] = DELETED

    def clear(self) -> None:
        """End the session: at save, its stored entry is deleted and the browser told to
        drop the cookie. Keys set afterwards start a new session under a new id."""
        self._check_writable()
        self.accessed = True
        self._ended = self._ended or self._loaded is not None or self._had_cookie
        self._regenerate = False
        self._data.clear()
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
        return f"<{type(self).__name__} {shown} with {len(self._data)} key(s)>"

    # -- for the session manager --------------------------------------------------------

    def _collect_changes(self) -> Changes:
        """Everything this request changed: explicit writes and in-place mutations."""
        changes = dict(self._changes)
        if self._loaded is None or self._ended or not self.accessed:
            return changes
        pristine = self._records.decode(self._loaded.raw, self._loaded.session_id).data
        fingerprint = self._records.fingerprint
        for key, value in self._data.items():
            if key not in changes and fingerprint(value) != fingerprint(pristine.get(key)):
                changes[key] = value
        return changes

    def _saved(self, loaded: StoredSession | None) -> None:
        """Record the outcome of the save: the session now is ``loaded`` (or gone)."""
        self._loaded = loaded
        self._changes.clear()
        self._ended = self._regenerate = False
