"""``/auth/authorize``, the sign-in page Home Assistant's apps open, in real headless Chromium:
wrong password shows the error, the right one sends the browser to the app's redirect URI with
a code and the state, and the code buys tokens at ``/auth/token`` as the app would."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from shouwang.core.clock import ManualClock

from .test_http_support import PASSWORD, add_user, server_of, start_http_hub

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")


async def test_app_signs_in_through_the_authorize_page(tmp_path: Path, clock: ManualClock) -> None:
    from playwright.async_api import async_playwright, expect

    hub = await start_http_hub(tmp_path, clock)
    await add_user(hub, "值班保安", "guard")
    base = server_of(hub).url
    client_id = f"{base}/"
    redirect = f"{base}/app/callback"
    query = urlencode(
        {"response_type": "code", "client_id": client_id, "redirect_uri": redirect, "state": "s-42"}
    )
    errors: list[str] = []
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            context = await browser.new_context(locale="zh-CN")
            page = await context.new_page()
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.on(
                "console",
                lambda msg: (
                    errors.append(msg.text)
                    if msg.type == "error" and "404" not in msg.text
                    else None
                ),
            )
            await page.goto(f"{base}/auth/authorize?{query}")
            assert await page.text_content("h1") == "守望 · 登录"
            await page.fill("#username", "值班保安")
            await page.fill("#password", "wrong password")
            await page.click("#submit")
            await expect(page.locator("#error")).to_have_text("用户名或密码错误", timeout=10_000)
            await page.fill("#password", PASSWORD)
            async with page.expect_navigation(
                url=lambda url: url.startswith(redirect), timeout=10_000
            ):
                await page.click("#submit")
            landed = urlsplit(page.url)
            await browser.close()
        params = parse_qs(landed.query)
        assert params["state"] == ["s-42"]
        async with aiohttp.ClientSession() as session:
            data = {
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "client_id": client_id,
            }
            async with session.post(f"{base}/auth/token", data=data) as resp:
                assert resp.status == 200
                assert (await resp.json())["token_type"] == "Bearer"
        assert errors == []
    finally:
        await hub.stop(timeout=1)


async def test_authorize_page_refuses_foreign_redirects(tmp_path: Path, clock: ManualClock) -> None:
    from playwright.async_api import async_playwright, expect

    hub = await start_http_hub(tmp_path, clock)
    base = server_of(hub).url
    query = urlencode({"client_id": f"{base}/", "redirect_uri": "https://evil.example/steal"})
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = await (await browser.new_context(locale="en-US")).new_page()
            await page.goto(f"{base}/auth/authorize?{query}")
            await expect(page.locator("#error")).to_contain_text(
                "Invalid redirect URI", timeout=10_000
            )
            assert await page.is_disabled("#submit")
            await browser.close()
    finally:
        await hub.stop(timeout=1)
