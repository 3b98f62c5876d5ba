"""Settings, cookie signing and Set-Cookie formatting: pure functions, no backend."""

from __future__ import annotations

from typing import Any

import pytest
from web_apps import SECRET

import hazelkit.web
from hazelkit import Codec, ConfigurationError
from hazelkit.web import HazelkitSessionInterface, SessionConfig, SessionMiddleware
from hazelkit.web._cookies import (
    CookieSigner,
    cookie_values,
    deletion_cookie,
    new_session_id,
    session_cookie,
)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"secret_key": "short"}, "at least 16 bytes"),
        ({"secret_key": []}, "at least one key"),
        ({"secret_key": [SECRET, 12]}, "str or bytes"),
        ({"idle_timeout": 0}, "idle_timeout must be a positive"),
        ({"max_age": -1}, "max_age must be a positive"),
        ({"max_size": 0}, "max_size must be a positive integer"),
        ({"max_merge_attempts": 1.5}, "max_merge_attempts must be a positive integer"),
        ({"same_site": "Lax"}, "same_site must be"),
        ({"same_site": "none", "secure": False}, "needs a Secure cookie"),
        ({"cookie_name": "bad name"}, "not a valid cookie name"),
        ({"path": "relative"}, "must start with '/'"),
        ({"path": "/a;b"}, "must not contain ';'"),
        ({"domain": ""}, "non-empty ASCII"),
        ({"cookie_name": "__Host-id", "path": "/app"}, "__Host- cookie needs path='/'"),
        ({"cookie_name": "__Secure-id", "secure": False}, "must be Secure"),
        ({"map_name": ""}, "map_name"),
        ({"codec": "msgpack"}, "hazelkit Codec"),
    ],
)
def test_bad_settings_are_refused(options: dict[str, Any], message: str) -> None:
    options.setdefault("secret_key", SECRET)
    with pytest.raises(ConfigurationError, match=message):
        SessionConfig(**options)


def test_unknown_and_conflicting_options() -> None:
    with pytest.raises(ConfigurationError, match="unknown session option"):
        SessionMiddleware(lambda *args: None, secret_key=SECRET, max_ag=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="need a secret_key"):
        SessionMiddleware(lambda *args: None)  # type: ignore[arg-type]
    config = SessionConfig(secret_key=SECRET)
    with pytest.raises(ConfigurationError, match="either config"):
        SessionMiddleware(lambda *args: None, config=config, max_age=3)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="unknown session option"):
        HazelkitSessionInterface(idle=3)
    with pytest.raises(ConfigurationError, match="at least 16 bytes"):
        HazelkitSessionInterface(secret_key="short", url="memory://config", allow_memory=True)


def test_defaults_are_the_safe_ones() -> None:
    config = SessionConfig(secret_key=SECRET, codec=Codec())
    assert config.http_only
    assert config.same_site == "lax"
    assert config.secure is None  # Secure whenever the request is https
    assert config.idle_timeout == 1800
    assert config.max_age == 8 * 3600
    assert config.secret_keys == (SECRET.encode(),)


def test_signing_and_rotation() -> None:
    session_id = new_session_id()
    assert len(session_id) == 43
    assert new_session_id() != session_id
    old = CookieSigner([b"old-key-0123456789abcdef"])
    rotated = CookieSigner([b"new-key-0123456789abcdef", b"old-key-0123456789abcdef"])
    assert rotated.unsign(old.sign(session_id)) == session_id
    assert old.unsign(rotated.sign(session_id)) is None
    assert rotated.unsign("é.x") is None
    assert rotated.unsign(rotated.sign("not-a-session-id")) is None  # wrong shape


def test_set_cookie_headers() -> None:
    config = SessionConfig(secret_key=SECRET, domain="example.com", path="/app")
    header = session_cookie(config, "ID.SIG", max_age=99.9, https=False)
    assert (
        header
        == "session=ID.SIG; Max-Age=99; Path=/app; Domain=example.com; HttpOnly; SameSite=Lax"
    )
    assert "; Secure;" in session_cookie(config, "v", max_age=1, https=True)
    gone = deletion_cookie(config, https=True)
    assert gone.startswith("session=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
    strict = SessionConfig(secret_key=SECRET, same_site="none", http_only=False, persistent=False)
    assert (
        session_cookie(strict, "v", max_age=5, https=False)
        == "session=v; Path=/; Secure; SameSite=None"
    )
    prefixed = SessionConfig(secret_key=SECRET, cookie_name="__Host-s")
    assert "Secure" in session_cookie(prefixed, "v", max_age=5, https=False)


def test_cookie_header_parsing() -> None:
    header = 'a=1; session=first; other=x;session="second" ; sessionx=no; bare'
    assert cookie_values(header, "session") == ["first", "second"]
    assert cookie_values("", "session") == []


def test_exported_names() -> None:
    assert sorted(hazelkit.web.__all__) == hazelkit.web.__all__
    for exported in hazelkit.web.__all__:
        assert getattr(hazelkit.web, exported) is not None
    with pytest.raises(AttributeError):
        hazelkit.web.Nothing  # type: ignore[attr-defined] # noqa: B018


def test_repr_never_shows_the_secret_key() -> None:
    from hazelkit.web import SessionConfig

    config = SessionConfig(secret_key="super-secret-signing-key-123")
    assert "super-secret" not in repr(config)
