"""The per-request rules (what is saved, which headers are sent) of SessionManager and
Session, on both backends, without an HTTP server."""

from __future__ import annotations

import datetime
import decimal
import json
import secrets
import uuid

import pytest
from web_apps import SECRET

import hazelkit
from hazelkit import EncodeError, HazelkitError
from hazelkit.web import Session, SessionConfig, SessionManager, SessionStore
from hazelkit.web._cookies import CookieSigner
from hazelkit.web._store import StoredSession


class CountingStore(SessionStore):
    """A store that counts its lookups."""

    lookups = 0

    async def load(self, session_id: str) -> StoredSession | None:
        self.lookups += 1
        return await super().load(session_id)


@pytest.fixture
def manager(cluster: hazelkit.Cluster, name: str) -> SessionManager:
    return SessionManager(CountingStore(cluster, SessionConfig(secret_key=SECRET, map_name=name)))


async def new_cookie(manager: SessionManager, **data: object) -> str:
    session = await manager.open([], session_class=Session)
    session.update(data)
    result = await manager.save(session, https=False)
    assert result.set_cookie is not None
    return result.set_cookie.split(";")[0].split("=", 1)[1]


async def test_bad_cookies_cost_no_lookup(manager: SessionManager) -> None:
    store = manager.store
    assert isinstance(store, CountingStore)
    cookie = await new_cookie(manager, user="ada")

    def flip(char: str) -> str:
        return "B" if char == "A" else "A"

    # (the last base64 character of a signature carries padding bits: change another)
    tampered_signature = cookie[:-2] + flip(cookie[-2]) + cookie[-1]
    tampered_id = flip(cookie[0]) + cookie[1:]
    for bad in [tampered_signature, tampered_id, "nonsense", "", cookie.split(".")[0]]:
        session = await manager.open([bad], session_class=Session)
        assert session.new
        assert dict(session) == {}
    assert store.lookups == 0
    session = await manager.open(["nonsense", cookie], session_class=Session)  # repeated names
    assert session["user"] == "ada"
    assert store.lookups == 1


async def test_many_signed_cookie_values_cost_at_most_three_lookups(
    manager: SessionManager,
) -> None:
    store = manager.store
    assert isinstance(store, CountingStore)
    signer = CookieSigner([SECRET.encode()])
    unknown = [signer.sign(secrets.token_urlsafe(32)) for _ in range(20)]
    session = await manager.open(unknown, session_class=Session)
    assert session.new
    assert store.lookups == 3


async def test_typed_values_round_trip(manager: SessionManager) -> None:
    values = {
        "when": datetime.datetime(2024, 5, 1, 12, 30, tzinfo=datetime.UTC),
        "amount": decimal.Decimal("12.50"),
        "id": uuid.UUID(int=7),
        "tags": {"a", "b"},
        "pair": (1, "x"),
        "raw": b"\x00\x01",
    }
    cookie = await new_cookie(manager, **values)
    session = await manager.open([cookie], session_class=Session)
    assert dict(session) == values
    assert type(session["pair"]) is tuple


async def test_headers_per_kind_of_request(manager: SessionManager) -> None:
    untouched = await manager.open([], session_class=Session)
    result = await manager.save(untouched, https=False)
    assert (result.set_cookie, result.vary, result.refresh) == (None, False, None)

    cookie = await new_cookie(manager, a=1)
    reader = await manager.open([cookie], session_class=Session)
    assert reader["a"] == 1
    result = await manager.save(reader, https=True)
    assert result.set_cookie is None  # read-only: no Set-Cookie
    assert result.vary
    assert result.refresh is not None  # renewed after the response

    writer = await manager.open([cookie], session_class=Session)
    writer["b"] = 2
    result = await manager.save(writer, https=True)
    assert result.set_cookie is None  # same id: no Set-Cookie
    assert result.refresh is None

    ender = await manager.open([cookie], session_class=Session)
    ender.clear()
    result = await manager.save(ender, https=True)
    assert result.set_cookie is not None
    assert "Max-Age=0" in result.set_cookie
    assert "Secure" in result.set_cookie
    assert (await manager.open([cookie], session_class=Session)).new


async def test_logout_then_new_data_starts_a_new_session(manager: SessionManager) -> None:
    cookie = await new_cookie(manager, user="ada", cart=["x"])
    session = await manager.open([cookie], session_class=Session)
    old_id = session.id
    session.clear()
    session["flash"] = "bye"
    result = await manager.save(session, https=False)
    assert result.set_cookie is not None
    assert session.id != old_id
    assert await manager.store.data(str(old_id)) is None
    assert await manager.store.data(str(session.id)) == {"flash": "bye"}


async def test_bad_values_are_refused_at_once(manager: SessionManager) -> None:
    session = await manager.open([], session_class=Session)
    session["ok"] = 1
    with pytest.raises(EncodeError, match="keys must be str"):
        session[1] = "x"  # type: ignore[index]
    with pytest.raises(EncodeError):
        session["bad"] = object()
    assert dict(session) == {"ok": 1}


async def test_read_only_session(manager: SessionManager) -> None:
    cookie = await new_cookie(manager, user="ada")
    session = await manager.open([cookie], session_class=Session, read_only=True)
    assert session["user"] == "ada"
    with pytest.raises(HazelkitError, match="read-only"):
        session["user"] = "eve"
    with pytest.raises(HazelkitError, match="read-only"):
        session.clear()
    for change in (
        lambda: session.update(user="eve"),
        lambda: session.pop("user"),
        lambda: session.popitem(),
        lambda: session.setdefault("other", 1),
        lambda: session.__ior__({"user": "eve"}),
    ):
        with pytest.raises(HazelkitError, match="read-only"):
            change()
    assert session == {"user": "ada"}
    assert (await manager.save(session, https=False)).set_cookie is None


async def test_the_session_is_a_dict_whose_every_change_is_saved(
    manager: SessionManager,
) -> None:
    cookie = await new_cookie(manager, a=1, b=2, c=3)
    session = await manager.open([cookie], session_class=Session)
    assert isinstance(session, dict)
    assert json.loads(json.dumps(session)) == {"a": 1, "b": 2, "c": 3}
    assert session.pop("a") == 1
    assert session.popitem() == ("c", 3)
    session.update({"d": 4}, e=5)
    session |= {"f": 6}
    assert session.setdefault("b", 0) == 2
    assert session.setdefault("g", 7) == 7
    assert session.copy() == {"b": 2, "d": 4, "e": 5, "f": 6, "g": 7}
    assert type(session.copy()) is dict
    with pytest.raises(EncodeError):
        session.update({"bad": object()})
    assert "bad" not in session
    await manager.save(session, https=False)
    again = await manager.open([cookie], session_class=Session)
    assert again == {"b": 2, "d": 4, "e": 5, "f": 6, "g": 7}


async def test_reading_through_any_dict_method_marks_the_session_accessed(
    manager: SessionManager,
) -> None:
    cookie = await new_cookie(manager, a=1)
    for read in (
        lambda s: s.get("a"),
        lambda s: list(s.items()),
        lambda s: list(s.keys()),
        lambda s: list(s.values()),
        lambda s: "a" in s,
        lambda s: s == {},
        lambda s: json.dumps(s),
    ):
        session = await manager.open([cookie], session_class=Session)
        assert not session.accessed
        read(session)
        assert session.accessed  # so the response says Vary: Cookie


async def test_state_flags(manager: SessionManager) -> None:
    session = await manager.open([], session_class=Session)
    assert session.new
    assert session.id is None
    assert not session.modified
    assert not session.accessed
    session["a"] = "secret-value"
    assert session.modified
    assert session.accessed
    await manager.save(session, https=False)
    assert session.id is not None
    assert not session.modified
    assert session.id[:6] in repr(session)
    assert "secret-value" not in repr(session)  # reprs end up in logs


async def test_rotated_keys_keep_old_cookies_valid(cluster: hazelkit.Cluster, name: str) -> None:
    old_key, new_key = "old-key-0123456789abcdef", "new-key-0123456789abcdef"
    before = SessionManager(SessionStore(cluster, SessionConfig(secret_key=old_key, map_name=name)))
    cookie = await new_cookie(before, user="ada")
    rotated_config = SessionConfig(secret_key=[new_key, old_key], map_name=name)
    after = SessionManager(SessionStore(cluster, rotated_config))
    assert (await after.open([cookie], session_class=Session))["user"] == "ada"
    fresh = await new_cookie(after, user="bob")
    assert CookieSigner([new_key.encode()]).unsign(fresh) is not None  # new key signs
    assert CookieSigner([old_key.encode()]).unsign(fresh) is None
