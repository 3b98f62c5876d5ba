"""Sessions for Flask (WSGI), through the blocking facade: the same store, the same rules."""

from __future__ import annotations

import atexit
import functools
import threading
from typing import TYPE_CHECKING, Any

from flask import request
from flask.sessions import SessionInterface, SessionMixin

from hazelkit._core._exceptions import ConfigurationError
from hazelkit.blocking import BlockingCluster, connect_blocking
from hazelkit.web._config import SessionConfig
from hazelkit.web._manager import SessionManager
from hazelkit.web._session import Session
from hazelkit.web._store import SessionStore

if TYPE_CHECKING:
    from flask import Flask
    from flask.wrappers import Request, Response

__all__ = ["FlaskSession", "HazelkitSessionInterface"]


class FlaskSession(Session, SessionMixin):  # type: ignore[override]  # ``new`` is read-only
    """A :class:`Session` that is also Flask's ``SessionMixin`` (``flask.session``).

    ``permanent`` is stored as the ``_permanent`` key, as Flask does; cookie lifetimes
    come from the :class:`SessionConfig` (``persistent``), not from it.
    """


class HazelkitSessionInterface(SessionInterface):
    """Flask sessions in a hazelkit cluster map::

        app.session_interface = HazelkitSessionInterface(url="hazelcast://h:5701")

    Options are those of :class:`SessionConfig` (or pass ``config=``). Without a
    ``secret_key``, the app's ``SECRET_KEY`` signs (and ``SECRET_KEY_FALLBACKS`` still
    verify). The sessions live in the grid at ``url`` (default ``$HAZELKIT_URL``, else
    the embedded grid), connected to on the first request, from the process that
    serves it (safe with pre-forking servers) and closed by :meth:`close` or at exit;
    or pass a ``cluster`` from :func:`hazelkit.connect_blocking` that you close yourself.

    Same guarantees as :class:`SessionMiddleware`; Flask saves the session with every
    response it sends, error responses included. Thread-safe.
    """

    def __init__(
        self,
        secret_key: str | bytes | list[str | bytes] | None = None,
        *,
        url: str | None = None,
        cluster: BlockingCluster | None = None,
        config: SessionConfig | None = None,
        **options: Any,
    ) -> None:
        if config is not None and (secret_key is not None or options):
            raise ConfigurationError("give either config= or session options, not both")
        if cluster is not None and url is not None:
            raise ConfigurationError("give either cluster= or url=, not both")
        if config is None and secret_key is not None:
            config = SessionConfig.from_options(secret_key, options)
        elif config is None:
            SessionConfig.from_options("x" * 16, options)  # check the options now
        self.config = config
        self._options = options
        self._url = url
        self._cluster = cluster
        self._owns_cluster = cluster is None
        self._manager: SessionManager | None = None
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        """Load the session named by the request's cookie (one map read), or start an
        empty one. Blocks the calling thread while the cluster answers."""
        cluster, manager = self._connected(app)
        cookies = request.cookies.getlist(manager.config.cookie_name)
        return cluster.run(manager.open, cookies, session_class=FlaskSession)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Store the request's changes and set the response's cookie and Vary headers;
        renew an unchanged session's idle timeout once the response has been sent."""
        cluster, manager = self._connected(app)
        if not isinstance(session, FlaskSession):  # pragma: no cover - Flask's null session
            return
        result = cluster.run(manager.save, session, https=request.is_secure)
        if result.set_cookie is not None:
            response.headers.add("Set-Cookie", result.set_cookie)
        if result.vary:
            response.vary.add("Cookie")
        if result.refresh is not None:
            response.call_on_close(functools.partial(cluster.run, manager.refresh, result.refresh))

    def close(self) -> None:
        """Close the grid connection if this interface opened it (idempotent)."""
        with self._lock:
            cluster, self._manager = self._cluster, None
            if self._owns_cluster and cluster is not None:
                self._cluster = None
                atexit.unregister(cluster.close)
                cluster.close()

    def _connected(self, app: Flask) -> tuple[BlockingCluster, SessionManager]:
        with self._lock:
            if self._manager is None or self._cluster is None:
                if self._cluster is None:
                    self._cluster = connect_blocking(self._url)
                    # An open blocking cluster would keep the interpreter from exiting.
                    atexit.register(self._cluster.close)
                store = SessionStore(self._cluster.async_cluster, self._config_for(app))
                self._manager = SessionManager(store)
            return self._cluster, self._manager

    def _config_for(self, app: Flask) -> SessionConfig:
        if self.config is not None:
            return self.config
        if not app.secret_key:
            raise ConfigurationError(
                "HazelkitSessionInterface needs a secret_key, or the app's SECRET_KEY"
            )
        keys = [app.secret_key, *reversed(app.config.get("SECRET_KEY_FALLBACKS") or [])]
        self.config = SessionConfig.from_options(keys, self._options)
        return self.config
