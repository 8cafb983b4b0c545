"""The web client in real Chromium: register, submit, see the verdict pushed live.

Debian's chromium is driven through Playwright's own protocol client (no browser
download: the executable is the system one).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from playwright.async_api import Browser, async_playwright, expect
from ulid import ULID

from satyamark.devstack import Stack
from shared import keys
from tests.e2e.test_admin import _cli

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


HOSTILE = '<img src=x onerror="window.__pwned = true">'


async def test_per_claim_verdicts_are_shown_as_text(stack: Stack, browser: Browser) -> None:
    """A result's claims are listed under it; server text never becomes markup, and only
    http(s) sources become links (opened with noopener noreferrer)."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(stack.gateway_url + "/")
    evidence = {
        "claim": "Known claim", "verdict": "true", "explanation": HOSTILE,
        "sourceUrl": "https://example.org/source", "sourceName": "Example", "similarity": 0.9,
    }  # fmt: skip
    event = {
        "type": "result", "taskId": "T1", "mark": "Incorrect", "reason": "overall",
        "confidence": 80, "cached": False, "method": f"word-level check {HOSTILE}",
        "claims": [
            {"text": "First claim.", "mark": "Correct", "reason": "entailed",
             "confidence": 90, "stance": "entails", "evidence": evidence},
            {"text": HOSTILE, "mark": "Incorrect", "reason": HOSTILE, "confidence": 70,
             "stance": "contradicts",
             "evidence": {**evidence, "sourceUrl": "javascript:window.__pwned=true",
                          "sourceName": None}},
        ],
    }  # fmt: skip
    await page.evaluate(
        "(event) => { row(event.taskId, 'the text'); fill(event.taskId, event); }", event
    )
    claims = page.locator("#results tr.claims li")
    await expect(claims).to_have_count(2)
    await expect(claims.nth(0)).to_contain_text("Correct (90%)")
    await expect(claims.nth(0)).to_contain_text("First claim.")
    link = claims.nth(0).locator("a")
    assert await link.get_attribute("href") == "https://example.org/source"
    assert await link.get_attribute("rel") == "noopener noreferrer"
    assert await link.text_content() == "Example"
    await expect(claims.nth(1)).to_contain_text(HOSTILE)  # shown as text
    assert await claims.nth(1).locator("a").count() == 0  # a javascript: URL is no link
    assert await page.locator("#results img").count() == 0
    # the same event again (a replay) replaces the list instead of adding one
    await page.evaluate("(event) => fill(event.taskId, event)", event)
    await expect(page.locator("#results tr.claims")).to_have_count(1)
    # The method is said once, as text, under the results.
    await expect(page.locator("#method")).to_have_text(f"How: word-level check {HOSTILE}")
    assert await page.locator("#method *").count() == 0
    assert await page.evaluate("window.__pwned === undefined")
    assert errors == []


async def test_an_expired_access_token_is_renewed(stack: Stack, browser: Browser) -> None:
    """The access token stops working (expired, say): the socket and the API renew it
    with the refresh token, once, and the user never sees a login form."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    refreshes: list[int] = []
    page.on(
        "response",
        lambda r: refreshes.append(r.status) if r.url.endswith("/v1/auth/refresh") else None,
    )
    await page.goto(stack.gateway_url + "/")
    await page.fill("#email", f"web-{ULID().hex[-8:]}@example.com")
    await page.fill("#password", "a long enough password")
    await page.click("button[data-action=register]")
    await expect(page.locator("#socket-state")).to_have_text("live", timeout=10_000)
    first_refresh = await page.evaluate("sessionStorage.getItem('satyamark.refresh')")

    # A reload with a dead access token: the socket is refused (4401) and renews it.
    await page.evaluate("sessionStorage.setItem('satyamark.token', 'not-a-token')")
    await page.reload()
    await expect(page.locator("#socket-state")).to_have_text("live", timeout=10_000)
    assert refreshes == [200]
    second_refresh = await page.evaluate("sessionStorage.getItem('satyamark.refresh')")
    assert second_refresh and second_refresh != first_refresh  # rotated

    # The API refuses the dead token (401): renewed, and the submit goes through.
    await page.evaluate("token = 'not-a-token'")
    await page.fill("#text", "The Nile flows into the Mediterranean Sea.")
    await page.click("#verify-form button[type=submit]")
    mark = page.locator("#results tr").first.locator("td").nth(1)
    await expect(mark).not_to_have_text("…", timeout=30_000)
    assert refreshes == [200, 200]
    assert await page.locator("#workspace").is_visible()
    assert await page.locator("#error").text_content() == ""

    # A spent refresh token (the login was revoked): back to the login form.
    await page.evaluate("token = 'not-a-token'; refreshToken = 'spent'")
    await page.fill("#text", "Mount Everest is the highest mountain above sea level.")
    await page.click("#verify-form button[type=submit]")
    await expect(page.locator("#login")).to_be_visible(timeout=10_000)
    assert errors == []


async def test_history_keys_webhooks_and_cancel_in_the_page(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """What the page keeps and manages: the history comes back after a reload, a queued
    task can be cancelled, an API key is shown once and works for another client until
    it is revoked, a webhook is added with its secret shown once."""
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(stack.gateway_url + "/")
    await page.fill("#email", f"web-{ULID().hex[-8:]}@example.com")
    await page.fill("#password", "a long enough password")
    await page.click("button[data-action=register]")
    await expect(page.locator("#socket-state")).to_have_text("live", timeout=10_000)

    text = f"The history claim {ULID()} is true."
    await page.fill("#text", text)
    await page.click("#verify-form button[type=submit]")
    mark = page.locator("#results tr").first.locator("td").nth(1)
    await expect(mark).not_to_have_text("…", timeout=30_000)
    await page.reload()
    first = page.locator("#results tr").first
    await expect(first.locator("td").nth(0)).to_have_text(text, timeout=10_000)
    await expect(first.locator("td").nth(1)).not_to_have_text("…")

    # a queued task is cancelled from its row (workers paused so that it stays queued)
    switch = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    switch.hset(keys.WORKERS, mapping={"paused": "1"})
    try:
        await asyncio.sleep(1.5)  # past a worker's blocking read
        await page.fill("#text", f"The cancelled claim {ULID()} is false.")
        await page.click("#verify-form button[type=submit]")
        queued = page.locator("#results tr").first
        await queued.locator("button[data-cancel]").click()
        await expect(queued.locator("td").nth(1)).to_have_text("failed", timeout=10_000)
        await expect(queued.locator("td").nth(3)).to_contain_text("TASK-CANCELLED")
    finally:
        switch.hset(keys.WORKERS, mapping={"paused": "0"})
        switch.close()

    await page.fill("#key-name", "my platform")
    await page.click("#key-form button[type=submit]")
    await expect(page.locator("#new-key")).to_have_text(re.compile(r"^sm_live_"))
    key = await page.locator("#new-key").text_content() or ""
    await expect(page.locator("#key-list li")).to_have_count(1)
    await expect(page.locator("#key-list li")).to_contain_text("my platform")
    async with httpx.AsyncClient(base_url=stack.gateway_url) as other:
        auth = {"Authorization": f"Bearer {key}"}
        assert (await other.get("/v1/tasks", headers=auth)).status_code == 200
        await page.locator("#key-list button").click()
        await expect(page.locator("#key-list li")).to_have_count(0)
        assert (await other.get("/v1/tasks", headers=auth)).status_code == 401

    await page.fill("#webhook-url", "http://127.0.0.1:9/hooks")
    await page.click("#webhook-form button[type=submit]")
    await expect(page.locator("#new-secret")).to_have_text(re.compile(r"^whsec_"))
    await expect(page.locator("#webhook-list li")).to_contain_text("http://127.0.0.1:9/hooks")
    await page.locator("#webhook-list button").click()
    await expect(page.locator("#webhook-list li")).to_have_count(0)
    await page.screenshot(path=str(tmp_path / "web-client-manage.png"), full_page=True)
    assert errors == []


def _dead_letter(client: redis.Redis, task_id: str) -> str:
    """Move a task's undelivered job from the stream to the dead letters, as a worker
    does after its last failed attempt (worker/lua/dead_letter.lua)."""
    entries: Any = client.xrange(keys.JOB_STREAM)
    for entry_id, fields in entries:
        if fields.get("taskId") == task_id:
            failure: dict[str | bytes, str | bytes] = {
                "sourceId": entry_id,
                "errorCode": "WORKER-MODEL-500",
                "lastError": "the model crashed",
                "deliveries": "3",
                "attempts": "[]",
                "failureCallback": "sent",
            }
            dead = client.xadd(keys.JOB_DLQ_STREAM, dict(fields) | failure)
            client.xdel(keys.JOB_STREAM, entry_id)
            return str(dead)
    raise AssertionError(f"no job of task {task_id} in the stream")


async def test_an_admin_operates_from_the_ops_page(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """Gauges pushed over the socket, the intake switch, a dead letter replayed (its
    user gets the verdict) and the audit log, all from the page."""
    email, password = f"ops-{ULID().hex[-8:]}@example.com", "a long enough password"
    async with httpx.AsyncClient(base_url=stack.gateway_url) as api:
        registered = await api.post(
            "/v1/auth/register", json={"email": email, "password": password}
        )
        assert registered.status_code == 201
    granted = await asyncio.to_thread(_cli, stack, "grant", email)
    assert granted.returncode == 0, granted.stderr

    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(stack.gateway_url + "/")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("button[data-action=login]")
    await expect(page.locator("#ops")).to_be_visible(timeout=10_000)
    await expect(page.locator("#ops-live")).to_contain_text("live", timeout=10_000)
    await expect(page.locator("#ops-backlog")).to_have_text(re.compile(r"^\d+$"))
    await expect(page.locator("#ops-consumers tr")).not_to_have_count(0)

    await page.fill("#ops-reason", "maintenance")
    await page.click("#intake-toggle")
    await expect(page.locator("#ops-intake")).to_have_text("paused: maintenance")
    await page.fill("#text", f"A claim {ULID()} while paused.")
    await page.click("#verify-form button[type=submit]")
    await expect(page.locator("#error")).to_contain_text("BE-PAUSED-503")
    await page.click("#intake-toggle")
    await expect(page.locator("#ops-intake")).to_have_text("open")

    # a job that died is replayed from the page; its user (here the admin) gets the verdict
    client = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    client.hset(keys.WORKERS, mapping={"paused": "1"})
    try:
        await asyncio.sleep(1.5)  # past a worker's blocking read
        await page.fill("#text", f"The replayed claim {ULID()} is true.")
        await page.click("#verify-form button[type=submit]")
        row = page.locator("#results tr").first
        await expect(row.locator("button[data-cancel]")).to_be_visible()
        queued: Any = client.xrange(keys.JOB_STREAM)
        task_id = queued[-1][1]["taskId"]
        entry = _dead_letter(client, task_id)
    finally:
        client.hset(keys.WORKERS, mapping={"paused": "0"})
        client.close()
    await page.click("#dlq-reload")
    dead = page.locator(f"#dlq-list tr[data-entry='{entry}']")
    await expect(dead).to_contain_text("WORKER-MODEL-500")
    await dead.locator("button[data-act=replay]").click()
    await expect(dead).to_have_count(0)
    await expect(row.locator("td").nth(1)).not_to_have_text("…", timeout=30_000)
    await expect(page.locator("#audit-list li").first).to_contain_text("dlq.replay")
    await expect(page.locator("#audit-list")).to_contain_text("intake.pause")
    await page.screenshot(path=str(tmp_path / "web-client-ops.png"), full_page=True)
    assert errors == []
