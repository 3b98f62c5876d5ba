"""Web sessions stored in the cluster, for ASGI (Starlette, FastAPI) and Flask apps.

FastAPI / Starlette::

    from hazelkit.web import SessionMiddleware
    app.add_middleware(SessionMiddleware, secret_key=KEY, url="hazelcast://h:5701")
    # in a handler: request.session["user"] = "ada"

Flask::

    from hazelkit.web import HazelkitSessionInterface
    app.session_interface = HazelkitSessionInterface(secret_key=KEY, url="hazelcast://h:5701")

Both share one :class:`SessionStore` (a cluster map) and one set of rules: the cookie
holds only a signed, random 256-bit id; data stays in the cluster (encoded by the
hazelkit codec, optionally encrypted, never pickled); idle and absolute timeouts;
``regenerate()`` on login, ``clear()`` on logout; per-key merging of concurrent
requests. Needs the ``web`` extra (itsdangerous; Flask for the Flask part).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hazelkit._core._public import publish as _publish
from hazelkit.web._asgi import SessionMiddleware
from hazelkit.web._config import SessionConfig
from hazelkit.web._manager import SaveResult, SessionManager
from hazelkit.web._record import SessionTooLargeError
from hazelkit.web._session import Session
from hazelkit.web._store import SessionStore, StoredSession

if TYPE_CHECKING:
    from hazelkit.web._flask import FlaskSession, HazelkitSessionInterface

__all__ = [
    "FlaskSession",
    "HazelkitSessionInterface",
    "SaveResult",
    "Session",
    "SessionConfig",
    "SessionManager",
    "SessionMiddleware",
    "SessionStore",
    "SessionTooLargeError",
    "StoredSession",
]

_FLASK_NAMES = ("FlaskSession", "HazelkitSessionInterface")
_publish(__name__, globals(), [name for name in __all__ if name not in _FLASK_NAMES])


def __getattr__(name: str) -> Any:
    # The Flask integration imports Flask, which ASGI-only apps need not install.
    if name in _FLASK_NAMES:
        from hazelkit.web import _flask

        value = getattr(_flask, name)
        _publish(__name__, {name: value}, [name])
        return value
    raise AttributeError(f"module 'hazelkit.web' has no attribute {name!r}")
