"""Web sessions stored in the cluster, for ASGI (Starlette, FastAPI) and Flask apps.

FastAPI / Starlette::

    from hazelkit.web import SessionMiddleware, session_of
    app.add_middleware(SessionMiddleware, secret_key=KEY, url="hazelcast://h:5701")
    # in a handler: request.session["user"] = "ada"; session_of(request).regenerate()

Flask::

    from hazelkit.web import HazelkitSessionInterface, flask_session
    app.session_interface = HazelkitSessionInterface(url="hazelcast://h:5701")
    # in a view: flask.session["user"] = "ada"; flask_session().regenerate()

Both share one :class:`SessionStore` (a cluster map) and one set of rules: the cookie
holds only a signed, random 256-bit id; data stays in the cluster (encoded by the
hazelkit codec, optionally encrypted, never pickled); idle and absolute timeouts;
``regenerate()`` on login, ``clear()`` on logout; per-key merging of concurrent
requests; one time budget per request for the store (``timeout``). The store must be
named (``url=``, ``cluster=`` or ``$HAZELKIT_URL``); an embedded ``memory://`` grid only
with ``allow_memory=True``. Needs the ``web`` extra: ``pip install 'hazelkit[web]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hazelkit._core._public import publish as _publish
from hazelkit.web._asgi import SessionMiddleware, session_of
from hazelkit.web._budget import SessionTimeoutError
from hazelkit.web._config import SessionConfig, SessionOptions
from hazelkit.web._manager import SaveResult, SessionManager
from hazelkit.web._record import SessionTooLargeError
from hazelkit.web._session import Session
from hazelkit.web._store import SessionStore, StoredSession

if TYPE_CHECKING:
    from hazelkit.web._flask import FlaskSession, HazelkitSessionInterface, flask_session

__all__ = [
    "FlaskSession",
    "HazelkitSessionInterface",
    "SaveResult",
    "Session",
    "SessionConfig",
    "SessionManager",
    "SessionMiddleware",
    "SessionOptions",
    "SessionStore",
    "SessionTimeoutError",
    "SessionTooLargeError",
    "StoredSession",
    "flask_session",
    "session_of",
]

_FLASK_NAMES = ("FlaskSession", "HazelkitSessionInterface", "flask_session")
_publish(__name__, globals(), [name for name in __all__ if name not in _FLASK_NAMES])


def __getattr__(name: str) -> Any:
    # The Flask integration imports Flask, which ASGI-only apps need not install.
    if name in _FLASK_NAMES:
        from hazelkit.web import _flask

        value = getattr(_flask, name)
        _publish(__name__, {name: value}, [name])
        return value
    raise AttributeError(f"module 'hazelkit.web' has no attribute {name!r}")
