"""The settings of a session store and its cookie, checked once when they are made."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypedDict

from hazelkit._codec import Codec
from hazelkit._core._exceptions import ConfigurationError

__all__ = ["SessionConfig", "SessionOptions"]

SameSite = Literal["lax", "strict", "none"]
MIN_SECRET_BYTES = 16
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 6265 cookie-name characters
_ATTRIBUTE_VALUE = re.compile(r"^[\x21-\x7e]*$")


def _secret_bytes(key: object) -> bytes:
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, bytes | bytearray):
        return bytes(key)
    raise ConfigurationError(f"a session secret key must be str or bytes, got {type(key).__name__}")


class SessionOptions(TypedDict, total=False):
    """The keyword options of :class:`SessionMiddleware` and
    :class:`HazelkitSessionInterface`: the fields of :class:`SessionConfig`, and
    Starlette's own names with their meanings, so that switching from
    ``starlette.middleware.sessions.SessionMiddleware`` is one import:

    - ``session_cookie``: the cookie's name (``cookie_name``);
    - ``https_only=True``: always a Secure cookie (``secure=True``); ``False`` leaves it
      to the request (Secure on https only), which is hazelkit's default;
    - ``max_age=None``: a cookie without Max-Age, which the browser drops when it closes
      (``persistent=False``); the session itself still ends after ``idle_timeout`` and
      at the latest after the default ``max_age`` (8 hours). A number means what it means
      in Starlette: the session's lifetime and the cookie's Max-Age.
    """

    map_name: str
    cookie_name: str
    idle_timeout: float
    max_age: float | None
    path: str
    domain: str | None
    secure: bool | None
    http_only: bool
    same_site: SameSite
    persistent: bool
    max_size: int
    codec: Codec | None
    max_merge_attempts: int
    timeout: float
    session_cookie: str
    https_only: bool


_STARLETTE_NAMES = {"https_only", "session_cookie"}


def _translate_starlette_names(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with Starlette's names turned into SessionConfig's (see SessionOptions)."""
    translated = dict(options)
    for starlette, ours in (("session_cookie", "cookie_name"), ("https_only", "secure")):
        if starlette in translated and ours in translated:
            raise ConfigurationError(f"give either {starlette}= or {ours}=, not both")
    if "session_cookie" in translated:
        translated["cookie_name"] = translated.pop("session_cookie")
    if "https_only" in translated:
        translated["secure"] = True if translated.pop("https_only") else None
    if "max_age" in translated and translated["max_age"] is None:
        if translated.get("persistent") is True:
            raise ConfigurationError("max_age=None means persistent=False: give one of them")
        del translated["max_age"]
        translated["persistent"] = False
    return translated


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """How sessions are stored and how their cookie is written.

    ``secret_key`` signs the cookie (HMAC-SHA256). Give one key, or a sequence of keys to
    rotate: the first signs, every one of them is accepted when verifying, so a new key
    can be put first while cookies signed with the older ones stay valid. Each key must
    have at least 16 bytes; use ``secrets.token_urlsafe(32)``.

    Lifetimes: a session ends after ``idle_timeout`` seconds without a request (the map
    entry's time to live, refreshed on use), and at the latest ``max_age`` seconds after
    it was created or regenerated, however busy it is. Hazelcast members keep expiry
    times to about a second, so on Hazelcast an idle session may end up to a second early.

    Cookie: ``cookie_name``, ``path``, ``domain``; ``http_only`` (default on);
    ``same_site`` ``"lax"`` (default), ``"strict"`` or ``"none"`` (which needs Secure);
    ``secure`` True, False, or None (default) for "on when the request came over https".
    ``persistent`` gives the cookie a Max-Age equal to the session's remaining absolute
    lifetime; without it the cookie ends when the browser closes.

    Storage: ``map_name`` is the cluster map holding the sessions; ``codec`` encodes the
    records (default: the cluster's codec; give a ``Codec(encryption=...)`` to encrypt
    sessions at rest); ``max_size`` bounds one encoded session in bytes;
    ``max_merge_attempts`` bounds the compare-and-set retries of one save.

    ``timeout`` (seconds, default 5) is the budget of one request for waiting on the
    session store, loading and saving together: past it, the integrations raise
    SessionTimeoutError (see :class:`SessionMiddleware`, :class:`HazelkitSessionInterface`).

    Raises ConfigurationError for any setting that is invalid or unsafe.
    """

    secret_key: str | bytes | Sequence[str | bytes] = field(repr=False)
    map_name: str = "hazelkit.sessions"
    cookie_name: str = "session"
    idle_timeout: float = 30 * 60
    max_age: float = 8 * 60 * 60
    path: str = "/"
    domain: str | None = None
    secure: bool | None = None
    http_only: bool = True
    same_site: SameSite = "lax"
    persistent: bool = True
    max_size: int = 64 * 1024
    codec: Codec | None = None
    max_merge_attempts: int = 64
    timeout: float = 5.0

    def __post_init__(self) -> None:
        self._check_secrets()
        self._check_lifetimes()
        self._check_cookie()
        if not isinstance(self.map_name, str) or not self.map_name:
            raise ConfigurationError("map_name must be a non-empty string")
        if self.codec is not None and not isinstance(self.codec, Codec):
            raise ConfigurationError(f"codec must be a hazelkit Codec, got {self.codec!r}")

    @property
    def secret_keys(self) -> tuple[bytes, ...]:
        """The signing keys as bytes, the current (signing) key first."""
        if isinstance(self.secret_key, str | bytes | bytearray):
            return (_secret_bytes(self.secret_key),)
        return tuple(_secret_bytes(key) for key in self.secret_key)

    @classmethod
    def from_options(cls, secret_key: Any, options: Mapping[str, Any]) -> SessionConfig:
        """A config from keyword options (:class:`SessionOptions`, Starlette's names
        included), with a clear error for an unknown name."""
        options = _translate_starlette_names(options)
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown session option(s) {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known - {'secret_key'} | _STARLETTE_NAMES))}"
            )
        if secret_key is None:
            raise ConfigurationError("sessions need a secret_key to sign their cookie")
        return cls(secret_key=secret_key, **options)

    def _check_secrets(self) -> None:
        keys = self.secret_keys
        if not keys:
            raise ConfigurationError("secret_key: give at least one key")
        for key in keys:
            if len(key) < MIN_SECRET_BYTES:
                raise ConfigurationError(
                    f"a session secret key needs at least {MIN_SECRET_BYTES} bytes, got "
                    f"{len(key)}; use secrets.token_urlsafe(32)"
                )

    def _check_lifetimes(self) -> None:
        for name in ("idle_timeout", "max_age", "timeout"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ConfigurationError(f"{name} must be a positive number of seconds")
        for name in ("max_size", "max_merge_attempts"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer")

    def _check_cookie(self) -> None:
        if not isinstance(self.cookie_name, str) or not _TOKEN.match(self.cookie_name):
            raise ConfigurationError(f"cookie_name {self.cookie_name!r} is not a valid cookie name")
        if self.same_site not in ("lax", "strict", "none"):
            raise ConfigurationError(
                f"same_site must be 'lax', 'strict' or 'none', got {self.same_site!r}"
            )
        if self.same_site == "none" and self.secure is False:
            raise ConfigurationError("same_site='none' needs a Secure cookie: secure=False refused")
        if not self.path.startswith("/") or not _ATTRIBUTE_VALUE.match(self.path):
            raise ConfigurationError(f"path {self.path!r} must start with '/' and be plain ASCII")
        if ";" in self.path or (self.domain is not None and ";" in self.domain):
            raise ConfigurationError("path and domain must not contain ';'")
        if self.domain is not None and not (self.domain and _ATTRIBUTE_VALUE.match(self.domain)):
            raise ConfigurationError(f"domain {self.domain!r} must be a non-empty ASCII name")
        self._check_prefix()

    def _check_prefix(self) -> None:
        # Browsers reject __Secure-/__Host- cookies that break these rules, silently.
        name = self.cookie_name
        if name.startswith(("__Secure-", "__Host-")) and self.secure is False:
            raise ConfigurationError(f"a {name.split('-')[0]}- cookie must be Secure")
        if name.startswith("__Host-") and (self.path != "/" or self.domain is not None):
            raise ConfigurationError("a __Host- cookie needs path='/' and no domain")
