"""Session behaviours over real HTTP: FastAPI under uvicorn and Flask under a WSGI server,
each on the embedded grid and on real Hazelcast members."""

from __future__ import annotations

import asyncio
import secrets
import time

from web_apps import SECRET
from web_servers import StartSite, session_id

from hazelkit.web._cookies import CookieSigner


async def test_round_trip_cookie_and_headers(start_site: StartSite) -> None:
    site = await start_site()
    visitor = site.visitor()
    created = await visitor.call("set", key="a", value="1")
    [cookie] = visitor.set_cookies
    assert cookie.name == "session"
    assert visitor.cookie is not None
    assert len(session_id(visitor.cookie)) == 43  # 256 random bits, base64url
    assert {"httponly", "path", "samesite", "max-age"} <= cookie.attributes.keys()
    assert cookie.attributes["samesite"] == "Lax"
    assert cookie.attributes["path"] == "/"
    assert "secure" not in cookie.attributes  # plain http
    assert 8 * 3600 - 60 < int(cookie.attributes["max-age"]) <= 8 * 3600
    assert "cookie" in created.headers["vary"].lower()
    assert await site.store.data(session_id(visitor.cookie)) == {"a": "1"}

    read = await visitor.get("get", key="a")
    assert read.json() == {"value": "1"}
    assert "set-cookie" not in read.headers  # read-only: never a Set-Cookie
    assert "cookie" in read.headers["vary"].lower()

    updated = await visitor.call("set", key="b", value="2")
    assert "set-cookie" not in updated.headers  # same id: nothing to tell the browser
    untouched = await visitor.get("static")
    assert "set-cookie" not in untouched.headers
    assert "vary" not in untouched.headers
    assert await site.store.data(session_id(visitor.cookie)) == {"a": "1", "b": "2"}


async def test_no_session_is_created_by_reading(start_site: StartSite) -> None:
    site = await start_site()
    visitor = site.visitor()
    response = await visitor.get("get", key="a")
    assert response.json() == {"value": None}
    assert "set-cookie" not in response.headers
    assert await site.store.cluster.map(site.store.config.map_name).size() == 0


async def test_cookie_attributes_follow_https_and_settings(start_site: StartSite) -> None:
    site = await start_site()
    visitor = site.visitor()
    await visitor.call("set", value="x", headers={"x-forwarded-proto": "https"})
    assert "secure" in visitor.set_cookies[0].attributes  # on by default over https

    custom = await start_site(
        cookie_name="sid", secure=True, same_site="strict", domain="example.test",
        path="/", persistent=False, http_only=True,
    )  # fmt: skip
    other = custom.visitor()
    await other.call("set", value="x")
    [cookie] = other.set_cookies
    assert cookie.name == "sid"
    assert cookie.attributes["samesite"] == "Strict"
    assert cookie.attributes["domain"] == "example.test"
    assert "secure" in cookie.attributes
    assert "httponly" in cookie.attributes
    assert "max-age" not in cookie.attributes  # a browser-session cookie
    assert await other.value("k") == "x"


async def test_tampered_and_forged_cookies_get_a_fresh_empty_session(start_site: StartSite) -> None:
    site = await start_site()
    owner = site.visitor()
    await owner.call("login", user="ada")
    assert owner.cookie is not None
    real_id, signature = owner.cookie.rsplit(".", 1)

    def flip(char: str) -> str:
        return "B" if char == "A" else "A"

    forgeries = [
        f"{real_id}.{signature[:-2]}{flip(signature[-2])}{signature[-1]}",  # tampered signature
        f"{real_id[:-2]}{flip(real_id[-2])}{real_id[-1]}.{signature}",  # tampered id
        CookieSigner([b"not-the-server-key-0123456789"]).sign(real_id),  # another key
        real_id,  # no signature at all
        "garbage",
    ]
    for forged in forgeries:
        intruder = site.visitor(cookie=forged)
        response = await intruder.get("all")
        assert response.json() == {}, forged
        assert "set-cookie" not in response.headers
        await intruder.call("set", key="mine", value="1")
        assert intruder.cookie is not None
        assert session_id(intruder.cookie) != real_id
    assert await owner.value("user") == "ada"
    assert await site.store.data(real_id) == {"user": "ada"}


async def test_login_regenerates_the_id_against_fixation(start_site: StartSite) -> None:
    site = await start_site()
    attacker = site.visitor()
    await attacker.call("set", key="cart", value="book")
    planted = attacker.cookie
    assert planted is not None
    victim = site.visitor(cookie=planted)  # the attacker's cookie, planted in the victim
    await victim.call("login", user="ada")
    assert victim.cookie is not None
    assert session_id(victim.cookie) != session_id(planted)
    assert await victim.value("user") == "ada"
    assert await victim.value("cart") == "book"  # data moves with the session
    assert await attacker.value("user") is None  # the planted id is worthless
    assert await site.store.data(session_id(planted)) is None


async def test_logout_kills_every_copy_of_the_cookie(start_site: StartSite) -> None:
    site = await start_site()
    user = site.visitor()
    await user.call("login", user="ada")
    stolen = user.cookie
    assert stolen is not None
    await user.call("logout")
    [cookie] = user.set_cookies
    assert cookie.deletes
    assert user.cookie is None
    thief = site.visitor(cookie=stolen)
    assert await thief.value("user") is None
    assert await site.store.data(session_id(stolen)) is None
    await thief.call("set", key="x", value="1")  # writing with a dead cookie revives nothing
    assert thief.cookie is not None
    assert session_id(thief.cookie) != session_id(stolen)
    assert await site.store.data(session_id(stolen)) is None


async def test_in_place_changes_and_deletes_are_saved(start_site: StartSite) -> None:
    site = await start_site()
    visitor = site.visitor()
    await visitor.call("append", key="cart", item="a")
    await visitor.call("append", key="cart", item="b")  # list.append on the loaded value
    await visitor.call("set", key="gone", value="1")
    await visitor.call("delete", key="gone")
    assert (await visitor.get("all")).json() == {"cart": ["a", "b"]}


async def test_size_limit_is_a_clear_error_and_keeps_the_session(start_site: StartSite) -> None:
    site = await start_site(max_size=2048)
    visitor = site.visitor()
    assert (await visitor.call("big", size=100)).status_code == 200
    refused = await visitor.call("big", size=5000)
    assert refused.status_code == 413
    assert "max_size of 2048 bytes" in refused.json()["error"]
    assert len(await visitor.value("big")) == 100


async def test_growing_a_value_in_place_past_the_limit_fails_the_request(
    start_site: StartSite,
) -> None:
    site = await start_site(max_size=2048)
    visitor = site.visitor()
    first, second = secrets.token_hex(600), secrets.token_hex(600)
    assert (await visitor.call("append", key="items", item=first)).status_code == 200
    # (uvicorn closes the connection after an app error: do not let httpx reuse it)
    closing = {"connection": "close"}
    failed = await visitor.call("append", key="items", item=second, headers=closing)
    assert failed.status_code == 500
    assert await visitor.value("items") == [first]  # nothing of the failed request stored


async def test_concurrent_requests_keep_every_key(start_site: StartSite) -> None:
    site = await start_site()
    visitor = site.visitor()
    await visitor.call("set", key="base", value="0")
    cookie = {"cookie": f"session={visitor.cookie}"}
    count = 30

    async def write(i: int) -> int:
        response = await site.http.post(
            "/set", params={"key": f"k{i}", "value": str(i)}, headers=cookie
        )
        assert "set-cookie" not in response.headers
        return response.status_code

    assert await asyncio.gather(*(write(i) for i in range(count))) == [200] * count
    stored = (await visitor.get("all")).json()
    assert stored == {"base": "0", **{f"k{i}": str(i) for i in range(count)}}


# Hazelcast keeps expiry times to about a second, so its timings get that much slack.
# (Real time on both backends: the servers connect by URL, so no ManualClock reaches them.)
# Each is counted from when the session it is about was surely created or last used.
EXPIRY_TIMINGS = {  # idle_timeout, max_age, kept alive for, idle gone after, absolute gone
    "memory": (1.2, 2.6, 1.8, 1.8, 2.7),
    "hazelcast": (2.5, 4.5, 3.0, 4.0, 4.6),
}


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


async def test_idle_and_absolute_expiry(start_site: StartSite, backend: str) -> None:
    idle_timeout, max_age, alive_for, idle_gone, absolute_gone = EXPIRY_TIMINGS[backend]
    site = await start_site(idle_timeout=idle_timeout, max_age=max_age)
    busy, idle = site.visitor(), site.visitor()
    before_busy = time.monotonic()  # the busy session is created after this...
    await busy.call("set", value="kept")
    after_busy = time.monotonic()  # ...and before this
    await idle.call("set", value="dropped")
    idle_last_used = time.monotonic()
    # Reading renews the idle timeout (a stall of idle_timeout - 0.2 s would end it).
    while time.monotonic() - before_busy < alive_for:  # well within max_age
        assert await busy.value("k") == "kept"
        await asyncio.sleep(0.2)
    await sleep_until(idle_last_used + idle_gone)
    assert await idle.value("k") is None  # unused for longer than idle_timeout
    assert idle.cookie is not None
    assert await site.store.data(session_id(idle.cookie)) is None
    await sleep_until(after_busy + absolute_gone)
    assert await busy.value("k") is None  # past max_age, however busy


async def test_forged_cookie_signed_with_the_right_key_for_an_unknown_id(
    start_site: StartSite,
) -> None:
    # Even a correctly signed id is worthless unless the server created it.
    site = await start_site()
    made_up = CookieSigner([SECRET.encode()]).sign("A" * 43)
    intruder = site.visitor(cookie=made_up)
    assert (await intruder.get("all")).json() == {}
    await intruder.call("set", value="1")
    assert intruder.cookie is not None
    assert session_id(intruder.cookie) != "A" * 43
