"""The web client in real Chromium: register, submit, see the verdict pushed live.

Debian's chromium is driven through Playwright's own protocol client (no browser
download: the executable is the system one).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright, expect
from ulid import ULID

from satyamark.devstack import Stack

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags for a headless root sandbox-less run on a closed network (see the machine notes).
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("chromium is not installed: run scripts/bootstrap --test")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def test_register_submit_and_see_the_pushed_verdict(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """Also keeps a screenshot in the test's temp dir for a human look."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(stack.gateway_url + "/")
    await page.fill("#email", f"web-{ULID().hex[-8:]}@example.com")
    await page.fill("#password", "a long enough password")
    await page.click("button[data-action=register]")
    await expect(page.locator("#socket-state")).to_have_text("live", timeout=10_000)

    await page.fill("#text", "The Pacific is the largest ocean on Earth.")
    await page.click("#verify-form button[type=submit]")
    row = page.locator("#results tr").first
    mark = row.locator("td").nth(1)
    await expect(mark).not_to_have_text("…", timeout=30_000)
    assert (await mark.text_content() or "").split(" ")[0] in {
        "Correct",
        "Incorrect",
        "Insufficient",
        "Subjective",
    }
    assert re.fullmatch(r"\d{1,3}%", await row.locator("td").nth(2).text_content() or "")
    await page.screenshot(path=str(tmp_path / "web-client.png"))
    assert errors == []
