"""One request's session, from its ``Cookie`` header to its ``Set-Cookie`` header.

Both integrations (ASGI, and Flask through the blocking facade) call the same three
coroutines: :meth:`SessionManager.open` before the app runs, :meth:`SessionManager.save`
before the response headers leave, :meth:`SessionManager.refresh` after the response.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from hazelkit.web._config import SessionConfig
from hazelkit.web._cookies import CookieSigner, deletion_cookie, session_cookie
from hazelkit.web._record import Changes
from hazelkit.web._session import Session
from hazelkit.web._store import SessionStore, StoredSession, written

__all__ = ["SaveResult", "SessionManager"]

logger = logging.getLogger("hazelkit.web")
S = TypeVar("S", bound=Session)


@dataclass(frozen=True, slots=True)
class SaveResult:
    """What the response needs: a ``Set-Cookie`` value (only when the session id
    changed or ended), whether to add ``Vary: Cookie``, and the session to refresh
    after the response (a session read but not written)."""

    set_cookie: str | None
    vary: bool
    refresh: StoredSession | None


#: How many cookie values of the session cookie one request may make us look up.
MAX_COOKIE_VALUES = 3


class SessionManager:
    """Reads and writes the sessions of requests: cookie signing plus the store.

    A request that writes to a session whose id another request just rotated with
    ``regenerate()`` (or ended with ``clear()``) has its write dropped: writing into the
    old id would revive it, and forwarding to the new one would let a stolen old cookie
    write into the new session.
    """

    def __init__(self, store: SessionStore) -> None:
        self.store = store
        self.config: SessionConfig = store.config
        self._signer = CookieSigner(self.config.secret_keys)

    async def open(
        self, cookies: Sequence[str], *, session_class: type[S], read_only: bool = False
    ) -> S:
        """The session named by the first validly signed cookie value that the store
        knows; otherwise a new, empty session. Forged, tampered and malformed values
        are rejected without a lookup in the store."""
        # A browser sends one value per cookie path/domain; more than a few is an attack
        # that would cost one store read each.
        for value in cookies[:MAX_COOKIE_VALUES]:
            session_id = self._signer.unsign(value)
            if session_id is None:
                continue
            loaded = await self.store.load(session_id)
            if loaded is not None:
                return session_class(
                    self.store.records, loaded, had_cookie=True, read_only=read_only
                )
        records = self.store.records
        return session_class(records, None, had_cookie=bool(cookies), read_only=read_only)

    async def save(
        self,
        session: Session,
        *,
        https: bool,
        persistent: bool | None = None,
        cookie_changed: bool = False,
    ) -> SaveResult:
        """Store what the request changed and say what the response must carry.

        ``Set-Cookie`` is sent only when a session was created, regenerated or ended,
        never for a read-only request or a plain update, so a slow read-only response
        cannot overwrite a newer cookie the browser got meanwhile; except that a write
        with ``cookie_changed`` (the cookie's persistence changed: Flask's
        ``session.permanent``) sends it again. ``persistent`` overrides the config's
        ``persistent`` for this cookie.

        Raises SessionTooLargeError (nothing stored) or ConflictError, and the store's
        errors (ClusterError, OperationTimeoutError) if the cluster cannot be reached.
        """
        if session.read_only:
            return SaveResult(None, session.accessed, None)
        changes = session._collect_changes()
        if not (changes or session._ended or session._regenerate):
            return SaveResult(None, session.accessed, session._loaded)
        after, cookie = await self._write(session, changes, https, persistent, cookie_changed)
        session._saved(after)
        return SaveResult(cookie, True, None)

    async def _write(
        self,
        session: Session,
        changes: Changes,
        https: bool,
        persistent: bool | None,
        cookie_changed: bool,
    ) -> tuple[StoredSession | None, str | None]:
        """The session after writing, and the Set-Cookie value if its id changed."""
        before = session._loaded
        if session._ended:
            if before is not None:
                await self.store.delete(before.session_id)
            if not written(changes):
                return None, deletion_cookie(self.config, https=https)
            after = await self.store.create(written(changes))
        elif session._regenerate:
            after = await self.store.regenerate(before, changes)
        elif before is None:
            after = await self.store.create(written(changes))
        else:
            saved = await self.store.save(before, changes)
            if saved is None:
                logger.info("a session ended while a request was changing it; changes dropped")
                return None, None
            return saved, self._cookie(saved, https, persistent) if cookie_changed else None
        return after, self._cookie(after, https, persistent)

    async def refresh(self, loaded: StoredSession | None) -> None:
        """Renew the idle timeout of a session that was used but not written.

        Runs after the response has gone, so it adds no latency; a failure is logged
        (the session then simply expires earlier), never raised.
        """
        if loaded is None:
            return
        try:
            await self.store.touch(loaded)
        except Exception:
            logger.warning("could not renew a session's idle timeout", exc_info=True)

    def _cookie(self, loaded: StoredSession, https: bool, persistent: bool | None) -> str:
        max_age = loaded.record.created + self.config.max_age - self.store.cluster.clock.time()
        value = self._signer.sign(loaded.session_id)
        return session_cookie(
            self.config, value, max_age=max_age, https=https, persistent=persistent
        )
