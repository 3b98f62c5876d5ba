"""Sessions for Flask (WSGI), through the blocking facade: the same store, the same rules."""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Unpack

import flask
from flask import request
from flask.sessions import SessionInterface, SessionMixin

from hazelkit._core._exceptions import ConfigurationError, HazelkitError
from hazelkit.blocking import BlockingCluster, connect_blocking
from hazelkit.web._budget import RequestBudget, within
from hazelkit.web._config import SessionConfig, SessionOptions
from hazelkit.web._manager import SessionManager
from hazelkit.web._session import Session
from hazelkit.web._store import SessionStore
from hazelkit.web._where import check_store

if TYPE_CHECKING:
    from flask import Flask
    from flask.wrappers import Request, Response

__all__ = ["FlaskSession", "HazelkitSessionInterface", "flask_session"]


class FlaskSession(Session, SessionMixin):  # type: ignore[override]  # ``new`` is read-only
    """A :class:`Session` that is also Flask's ``SessionMixin`` (``flask.session``).

    ``permanent`` is stored as the ``_permanent`` key, as Flask does. Unless the
    interface was given ``persistent=`` (or ``config=``), it decides the cookie, as in
    Flask: a permanent session's cookie lasts ``PERMANENT_SESSION_LIFETIME`` (the
    session's ``max_age``), another one ends when the browser closes.
    """

    #: What is left of this request's time budget for the store (set when loaded).
    _budget: RequestBudget | None = None


def flask_session() -> FlaskSession:
    """``flask.session``, typed as the hazelkit session it is: ``flask_session().regenerate()``
    passes ``mypy --strict``. Call it while handling a request.

    Raises HazelkitError if the app's session interface is not HazelkitSessionInterface.
    """
    session = flask.session._get_current_object()  # type: ignore[attr-defined]
    if not isinstance(session, FlaskSession):
        raise HazelkitError(
            "flask.session is not a hazelkit session: set app.session_interface = "
            f"HazelkitSessionInterface(...) (found {type(session).__name__})"
        )
    return session


class HazelkitSessionInterface(SessionInterface):
    """Flask sessions in a hazelkit cluster map::

        app.session_interface = HazelkitSessionInterface(url="hazelcast://h:5701")

    Where the sessions live must be said: ``url=`` (connected to on the first request,
    or at once by :meth:`init_app`, from the process that serves it, and closed by
    :meth:`close` or at exit), ``cluster=`` (a :func:`hazelkit.connect_blocking`
    cluster you close yourself, which the app can use too: one connection), or
    ``$HAZELKIT_URL``. An embedded ``memory://`` grid is refused unless
    ``allow_memory=True``: it lives in one process, so other workers would not see its
    sessions. ConfigurationError at construction otherwise.

    Flask's configuration is honoured, as Flask's own sessions do: ``SECRET_KEY`` signs
    (``SECRET_KEY_FALLBACKS`` still verify), ``SESSION_COOKIE_NAME``, ``_DOMAIN``,
    ``_PATH`` (else ``APPLICATION_ROOT``), ``_HTTPONLY``, ``_SECURE`` (False leaves it to
    the request: Secure on https), ``_SAMESITE`` (unset: Lax), and
    ``PERMANENT_SESSION_LIFETIME`` (the session's ``max_age``: its absolute lifetime,
    and the Max-Age of a permanent session's cookie). Options given here
    (:class:`SessionOptions`) win over the app's configuration; ``config=`` replaces it
    all. The configuration is read on the first request (or by :meth:`init_app`).
    hazelkit's ``idle_timeout`` (default 30 minutes) applies to permanent sessions too.
    ``SESSION_REFRESH_EACH_REQUEST`` changes nothing: every request renews the idle
    timeout in the cluster (no cookie needed for that), and a cookie's Max-Age is the
    session's remaining absolute lifetime, which no request extends, so ``Set-Cookie``
    is sent only when a session is created, regenerated, ended or made permanent.

    Failures: loading and saving together wait at most ``timeout`` seconds (default 5)
    per request; past that, SessionTimeoutError (a ClusterError if the cluster is
    unreachable) is raised, and Flask answers 500 Internal Server Error (its
    ``handle_exception``; a 500 handler finds the error in ``original_exception`` and
    may answer 503 instead). Renewing an idle timeout after the response is bounded the
    same way and never fails a request. A save that would take the session over
    ``max_size`` (also through a merge with another request's concurrent changes)
    raises SessionTooLargeError: a 500, with nothing of this request's changes stored.
    Flask saves the session with every response it sends, error responses included.
    Thread-safe.
    """

    def __init__(
        self,
        secret_key: str | bytes | Sequence[str | bytes] | None = None,
        *,
        url: str | None = None,
        cluster: BlockingCluster | None = None,
        allow_memory: bool = False,
        config: SessionConfig | None = None,
        **options: Unpack[SessionOptions],
    ) -> None:
        if config is not None and (secret_key is not None or options):
            raise ConfigurationError("give either config= or session options, not both")
        # Check the options, and a secret key given here, now (the app's own SECRET_KEY is
        # checked when the app is first seen).
        SessionConfig.from_options(secret_key if secret_key is not None else "x" * 16, options)
        self._url = check_store(
            "HazelkitSessionInterface",
            url=url,
            cluster_url=None if cluster is None else cluster.url,
            allow_memory=allow_memory,
        )
        #: The sessions' configuration: given, or made from the app's on first use.
        self.config = config
        self._secret_key = secret_key
        self._options: dict[str, Any] = dict(options)
        self._flask_persistence = (
            config is None and "persistent" not in options and options.get("max_age", 0) is not None
        )
        self._cluster = cluster
        self._owns_cluster = cluster is None
        self._manager: SessionManager | None = None
        self._lock = threading.Lock()

    def init_app(self, app: Flask) -> None:
        """Install this interface on ``app``, read the app's configuration and connect
        now, so that a wrong setting (ConfigurationError) or an unreachable cluster
        (ClusterUnavailableError, within the connect timeout) stops the app at start-up
        instead of failing its first requests. With a pre-forking server that loads the
        app before forking (gunicorn ``--preload``), call it in each worker instead."""
        app.session_interface = self
        self._connected(app)

    def open_session(self, app: Flask, request: Request) -> FlaskSession:
        """Load the session named by the request's cookie (one map read), or start an
        empty one. Blocks the calling thread while the cluster answers, for at most the
        ``timeout`` budget (SessionTimeoutError)."""
        cluster, manager = self._connected(app)
        cookies = request.cookies.getlist(manager.config.cookie_name)
        budget = RequestBudget(manager.config.timeout)
        session = cluster.run(
            budget.run, "loading", manager.open, cookies, session_class=FlaskSession
        )
        session._budget = budget
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Store the request's changes and set the response's cookie and Vary headers,
        within what is left of the request's ``timeout`` budget (SessionTimeoutError);
        renew an unchanged session's idle timeout once the response has been sent."""
        if not isinstance(session, FlaskSession):  # Flask's null session, or no session
            return
        cluster, manager = self._connected(app)
        budget = session._budget or RequestBudget(manager.config.timeout)
        persistent = bool(session._peek("_permanent")) if self._flask_persistence else None
        result = cluster.run(
            budget.run,
            "saving",
            manager.save,
            session,
            https=request.is_secure,
            persistent=persistent,
            cookie_changed=persistent is not None and "_permanent" in session._changes,
        )
        if result.set_cookie is not None:
            response.headers.add("Set-Cookie", result.set_cookie)
        if result.vary:
            response.vary.add("Cookie")
        if result.refresh is not None:
            refresh = functools.partial(
                cluster.run, within, manager.config.timeout, manager.refresh, result.refresh
            )
            response.call_on_close(refresh)

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
                config = self._config_for(app)
                if self._cluster is None:
                    self._cluster = connect_blocking(self._url)
                    # An open blocking cluster would keep the interpreter from exiting.
                    atexit.register(self._cluster.close)
                self._manager = SessionManager(SessionStore(self._cluster.async_cluster, config))
            return self._cluster, self._manager

    def _config_for(self, app: Flask) -> SessionConfig:
        if self.config is not None:
            return self.config
        keys: Any = self._secret_key
        if keys is None:
            if not app.secret_key:
                raise ConfigurationError(
                    "HazelkitSessionInterface needs a secret_key, or the app's SECRET_KEY"
                )
            keys = [app.secret_key, *reversed(app.config.get("SECRET_KEY_FALLBACKS") or [])]
        options = {**self._app_options(app), **self._options}
        self.config = SessionConfig.from_options(keys, options)
        return self.config

    def _app_options(self, app: Flask) -> dict[str, Any]:
        """The session options that the app's Flask configuration sets."""
        options: dict[str, Any] = {
            "cookie_name": self.get_cookie_name(app),
            "path": self.get_cookie_path(app),
            "domain": self.get_cookie_domain(app),
            "http_only": self.get_cookie_httponly(app),
            "max_age": app.permanent_session_lifetime.total_seconds(),
        }
        if self.get_cookie_secure(app):
            options["secure"] = True
        same_site = self.get_cookie_samesite(app)
        if same_site:
            options["same_site"] = str(same_site).lower()
        return options
