"""A real browser (Debian's Chromium, driven by Playwright): log in, reload, log out.

Chromium comes from the distribution (``apt-get install chromium``), never from
``playwright install``. With ``CI=true`` a missing Chromium fails the test; elsewhere it
is skipped with the reason.
"""

from __future__ import annotations

from playwright.async_api import async_playwright
from web_servers import StartSite, session_id

from browser_helpers import CHROMIUM_ARGS, chromium_path


async def test_login_reload_and_logout_in_a_browser(start_site: StartSite) -> None:
    executable = chromium_path()
    site = await start_site()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{site.base_url}/page")
            assert await page.text_content("#user") == "anonymous"

            async with page.expect_navigation():
                await page.click("#login")
            assert await page.text_content("#user") == "ada"
            [cookie] = await page.context.cookies()
            assert cookie["name"] == "session"
            assert cookie["httpOnly"]
            assert cookie["sameSite"] == "Lax"
            assert await page.evaluate("document.cookie") == ""  # invisible to scripts

            await page.reload()
            assert await page.text_content("#user") == "ada"  # kept across the reload
            assert await site.store.data(session_id(cookie["value"])) == {"user": "ada"}

            async with page.expect_navigation():
                await page.click("#logout")
            assert await page.text_content("#user") == "anonymous"
            assert await page.context.cookies() == []  # the browser dropped the cookie
            assert await site.store.data(session_id(cookie["value"])) is None
            await page.reload()
            assert await page.text_content("#user") == "anonymous"
        finally:
            await browser.close()
