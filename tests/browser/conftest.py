"""Fixtures for the browser tests: a running community hub and real headless Chromium
(Debian's ``/usr/bin/chromium`` driven by Playwright; no browser download). Each page's
JavaScript errors fail the test that caused them."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from .community import Community, start_community

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
#: real seconds a page gets to show something (only waited out when it never does)
TIMEOUT_MS = 10_000


@pytest.fixture
async def community(tmp_path: Path) -> AsyncIterator[Community]:
    started = await start_community(tmp_path)
    yield started
    await started.hub.stop(timeout=1)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


class Pages:
    """Opens pages in fresh browser contexts and records their JavaScript errors."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []
        self.errors: list[str] = []

    async def open(self, url: str, *, locale: str = "zh-CN", phone: bool = False) -> Page:
        viewport = {"width": 412, "height": 915} if phone else {"width": 1440, "height": 1000}
        context = await self.browser.new_context(
            locale=locale,
            timezone_id="Asia/Shanghai",
            viewport=viewport,
            device_scale_factor=1,
            is_mobile=phone,
            has_touch=phone,
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"{url}: console: {message.text}")
                if message.type == "error" and "status of 4" not in message.text
                else None
            ),
        )
        await page.goto(url)
        return page

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest.fixture
async def pages(browser: Browser) -> AsyncIterator[Pages]:
    opened = Pages(browser)
    yield opened
    await opened.close()
    assert not opened.errors, opened.errors


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under build/screenshots/ (the tests' artefacts)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def log_in(page: Page, username: str, password: str) -> None:
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill(password)
    await page.get_by_test_id("login-submit").click()
    await (
        page.get_by_test_id("connection-status")
        .and_(page.locator("[data-status=connected]"))
        .wait_for()
    )
