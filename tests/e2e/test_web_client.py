"""The React web app (frontend/, built into frontend/dist) in real Chromium, on the real
stack: register, submit, see the verdict pushed live with its claims; history across
reloads; a verdict made while the WebSocket service was down arrives once; token renewal;
the 429 countdown; API keys and webhooks; the ops page and the paused intake; and axe-core
finds no serious accessibility problem. Screenshots go to the test's tmp_path and to
/tmp/web-shots/ for a human look.

Debian's chromium is driven through Playwright's own protocol client (no browser download:
the executable is the system one).
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from ulid import ULID

from satyamark.devstack import Stack
from shared import keys
from tests.e2e.conftest import VERIFY_BURST
from tests.e2e.test_admin import _cli

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DIST = REPO / "frontend" / "dist"
AXE = next(
    (p for p in (REPO / "node_modules/axe-core/axe.min.js",
                 REPO / "frontend/node_modules/axe-core/axe.min.js") if p.exists()),
    None,
)  # fmt: skip
SHOTS = Path("/tmp/web-shots")
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
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 360, "height": 780}
PASSWORD = "a long enough password"
MARKS = ("Correct", "Incorrect", "Insufficient", "Subjective")
# Sentences: claims, each with its own verdict.
CLAIMS_TEXT = (
    "The Pacific is the largest ocean on Earth. "
    "Water boils at 100 degrees Celsius at sea level. ({})"
)


@pytest.fixture(scope="module", autouse=True)
def built_app() -> None:
    if not (DIST / "index.html").is_file():
        pytest.fail(
            "frontend/dist is missing: run scripts/bootstrap (or npm run build -w frontend)"
        )


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


class Tab:
    """One page in its own browser context, with what went wrong in it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # A refused inline script or style shows here: the CSP must never need relaxing.
        if "Content Security Policy" in message.text:
            self.errors.append(f"csp: {message.text}")


@asynccontextmanager
async def _tab(browser: Browser, **options: Any) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport=options.pop("viewport", DESKTOP), **options)
    try:
        yield Tab(await context.new_page())
    finally:
        await context.close()


def _email(prefix: str = "web") -> str:
    return f"{prefix}-{ULID().hex[-10:].lower()}@example.com"


async def _shot(page: Page, tmp_path: Path, name: str, full_page: bool = True) -> None:
    path = tmp_path / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    await asyncio.to_thread(_keep, path)


def _keep(path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / path.name)


async def _live(page: Page) -> None:
    await expect(page.get_by_test_id("connection")).to_have_attribute(
        "data-state", "live", timeout=15_000
    )


async def _register(page: Page, stack: Stack, email: str | None = None) -> str:
    email = email or _email()
    await page.goto(stack.gateway_url + "/")
    await page.get_by_role("button", name="Create an account").click()
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await _live(page)
    return email


async def _login(page: Page, stack: Stack, email: str, path: str = "/") -> None:
    await page.goto(stack.gateway_url + path)
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in", exact=True).click()
    await _live(page)


async def _submit(page: Page, text: str) -> None:
    await page.get_by_label("Text to check").fill(text)
    await page.get_by_role("button", name="Verify", exact=True).click()


def _card(page: Page, text: str) -> Any:
    return page.locator("article.task").filter(has_text=text)


async def _session(page: Page) -> dict[str, str]:
    stored = await page.evaluate("JSON.parse(sessionStorage.getItem('satyamark.session'))")
    assert isinstance(stored, dict)
    return stored


async def _axe(page: Page, what: str) -> None:
    """axe-core on the page as it is: no serious or critical violation."""
    assert AXE is not None, "axe-core is not installed: run npm install (scripts/bootstrap)"
    await page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""
    )
    bad = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert bad == [], f"{what}: {bad}"


async def _admin(stack: Stack, prefix: str) -> str:
    """Register a new user through the API and make it an admin: its e-mail."""
    email = _email(prefix)
    async with httpx.AsyncClient(base_url=stack.gateway_url) as api:
        registered = await api.post(
            "/v1/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert registered.status_code == 201
    granted = await asyncio.to_thread(_cli, stack, "grant", email)
    assert granted.returncode == 0, granted.stderr
    return email


@asynccontextmanager
async def _workers_paused(stack: Stack) -> AsyncIterator[redis.Redis]:
    """The workers told to stop taking jobs (and past their blocking read) until the
    block ends: a submitted job stays queued. Yields the Redis connection used."""
    switch = redis.Redis.from_url(stack.redis_url, decode_responses=True)
    try:
        switch.hset(keys.WORKERS, mapping={"paused": "1"})
        await asyncio.sleep(1.5)  # past a worker's blocking read
        yield switch
    finally:
        switch.hset(keys.WORKERS, mapping={"paused": "0"})
        switch.close()


async def _wait_task(api: httpx.AsyncClient, token: str, task_id: str) -> dict[str, Any]:
    for _ in range(300):
        task = await api.get(f"/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {token}"})
        assert task.status_code == 200, task.text
        if task.json()["status"] != "queued":
            return dict(task.json())
        await asyncio.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


# -- the tests ------------------------------------------------------------------------------


async def test_the_gateway_serves_the_built_app(stack: Stack) -> None:
    """index.html revalidated on every load, hashed assets cached for good, app routes
    answered with index.html; the API's own 404s and headers are left alone."""
    async with httpx.AsyncClient(base_url=stack.gateway_url) as web:
        home = await web.get("/")
        assert home.status_code == 200 and "<title>SatyaMark</title>" in home.text
        assert home.headers["cache-control"] == "no-cache"
        assert "frame-ancestors 'none'" in home.headers["content-security-policy"]
        assert home.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in home.text and "style=" not in home.text  # nothing inline
        assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', home.text)
        assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
        for asset in assets:
            answer = await web.get(asset)
            assert answer.status_code == 200, asset
            assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        for route in ("/keys", "/webhooks", "/ops"):
            page = await web.get(route)
            assert page.status_code == 200 and page.text == home.text, route
            assert page.headers["cache-control"] == "no-cache"
        missing = await web.get("/assets/index-gone.js")
        assert missing.status_code == 404  # never index.html in place of a stale script
        api = await web.get("/v1/no-such-route")
        assert api.status_code == 404 and "errorCode" in api.json()
        assert api.headers["cache-control"] == "no-store"
        assert (await web.post("/keys")).status_code in (404, 405)  # GET only
        jwks = await web.get("/.well-known/jwks.json")
        assert jwks.status_code == 200 and "keys" in jwks.json()
        assert (await web.get("/healthz")).status_code == 200


async def test_register_submit_see_claims_and_keep_history(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """The main path, on a desktop, a 360 px phone and in dark mode."""
    async with _tab(browser) as tab:
        page = tab.page
        await _register(page, stack)
        # keyboard only: the skip link comes first; Ctrl+Enter sends the text
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        text = CLAIMS_TEXT.format(ULID())
        await page.get_by_label("Text to check").fill(text)
        await expect(page.get_by_text(f"{len(text)} / 20,000 characters")).to_be_visible()
        await page.get_by_label("Text to check").press("Control+Enter")
        card = _card(page, text)
        await expect(card).to_have_attribute("data-stage", "done", timeout=30_000)
        verdict = card.locator(".verdict")
        said = await verdict.inner_text()
        assert any(mark in said for mark in MARKS), said
        await expect(verdict).to_contain_text(re.compile(r"Confidence \d{1,3}%"))
        # live: the breakdown is open, one entry per sentence
        claims = card.locator("ol.claims > li")
        await expect(claims.nth(1)).to_be_visible()
        for claim in await claims.all():
            said = await claim.inner_text()
            assert any(mark in said for mark in MARKS), said
        for link in await card.locator("a.source").all():
            assert (await link.get_attribute("href") or "").startswith(("http://", "https://"))
            assert await link.get_attribute("rel") == "noopener noreferrer"
        # said to screen readers, once, without moving the focus
        await expect(page.get_by_test_id("announcer")).to_contain_text("Verdict")
        assert await page.get_by_test_id("method").count() <= 1
        await _shot(page, tmp_path, "verify-desktop")

        # a reload keeps the login and the history (from the task API)
        await page.reload()
        await _live(page)
        await expect(_card(page, text)).to_have_attribute("data-stage", "done", timeout=10_000)
        await expect(page.locator("article.task")).to_have_count(1)

        # the same page on a 360 px phone: nothing wider than the screen
        await page.set_viewport_size(PHONE)
        await expect(_card(page, text)).to_be_visible()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways at 360 px ({width}px)"
        await _card(page, text).locator("summary").click()  # history: collapsed at first
        await _shot(page, tmp_path, "verify-360px")

        # dark mode: a toggle that persists across reloads
        await page.set_viewport_size(DESKTOP)
        toggle = page.get_by_role("button", name="Dark mode")
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await toggle.click()
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await page.reload()
        await expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        await expect(page.get_by_role("button", name="Dark mode")).to_have_attribute(
            "aria-pressed", "true"
        )
        await _card(page, text).locator("summary").click()
        await _shot(page, tmp_path, "verify-dark")
        # logging out revokes the login: its refresh token no longer works
        refresh_token = (await _session(page))["refreshToken"]
        await page.get_by_role("button", name="Log out").click()
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        async with httpx.AsyncClient(base_url=stack.gateway_url) as api:
            spent = await api.post("/v1/auth/refresh", json={"refresh_token": refresh_token})
            assert spent.status_code == 401
        assert tab.errors == []


async def test_a_verdict_made_while_the_socket_service_was_down_arrives_once(
    stack: Stack, browser: Browser
) -> None:
    async with _tab(browser) as tab, httpx.AsyncClient(base_url=stack.gateway_url) as api:
        page = tab.page
        await _register(page, stack)
        await _submit(page, f"The warm-up claim {ULID()} is true.")
        await expect(page.locator("article.task[data-stage=done]")).to_have_count(
            1, timeout=30_000
        )  # an event seen: the page has a replay position
        ws = [name for name in stack.components if name.startswith("ws_service")]
        for name in ws:
            stack.kill(name)
        try:
            await expect(page.get_by_test_id("connection")).not_to_have_attribute(
                "data-state", "live", timeout=15_000
            )
            text = f"The offline claim {ULID()} is true."
            async with page.expect_response(re.compile(r"/v1/verify$")) as answer:
                await _submit(page, text)
            task_id = (await (await answer.value).json())["taskId"]
            await _wait_task(api, (await _session(page))["accessToken"], task_id)
            card = _card(page, text)
            await expect(card).to_have_attribute("data-stage", "queued")  # not pushed yet
        finally:
            for name in ws:
                stack.revive(name)
        await _live(page)
        await expect(card).to_have_attribute("data-stage", "done", timeout=30_000)
        await asyncio.sleep(1)  # any duplicate would have come by now
        await expect(page.locator(f"article.task[data-task-id='{task_id}']")).to_have_count(1)
        await expect(page.locator("article.task")).to_have_count(2)
        assert tab.errors == []


async def test_an_expired_access_token_is_renewed_once(stack: Stack, browser: Browser) -> None:
    """A dead access token: the socket (4401) and the history call (401) both need a new
    one at once, and exactly one refresh happens. A spent refresh token: back to login."""
    async with _tab(browser) as tab:
        page = tab.page
        refreshes: list[int] = []
        page.on(
            "response",
            lambda r: refreshes.append(r.status) if r.url.endswith("/v1/auth/refresh") else None,
        )
        await _register(page, stack)
        first = await _session(page)
        await page.evaluate(
            """() => sessionStorage.setItem('satyamark.session', JSON.stringify(
                {...JSON.parse(sessionStorage.getItem('satyamark.session')),
                 accessToken: 'not-a-token'}))"""
        )
        await page.reload()
        await _live(page)
        await expect(page.get_by_text("No checks yet")).to_be_visible()
        assert refreshes == [200]
        second = await _session(page)
        assert second["refreshToken"] != first["refreshToken"]  # rotated
        assert second["accessToken"] not in (first["accessToken"], "not-a-token")

        text = f"The renewed claim {ULID()} is true."
        await _submit(page, text)
        await expect(_card(page, text)).to_have_attribute("data-stage", "done", timeout=30_000)
        assert refreshes == [200]

        # a revoked login (a spent refresh token): the login form, saying why
        await page.evaluate(
            """() => sessionStorage.setItem('satyamark.session',
                JSON.stringify({accessToken: 'not-a-token', refreshToken: 'spent'}))"""
        )
        await page.reload()
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible(timeout=10_000)
        await expect(page.get_by_role("status")).to_contain_text("Your session has ended")
        assert tab.errors == []


async def test_429_shows_a_live_countdown(stack: Stack, browser: Browser) -> None:
    async with _tab(browser) as tab, httpx.AsyncClient(base_url=stack.gateway_url) as api:
        page = tab.page
        await _register(page, stack)
        auth = {"Authorization": f"Bearer {(await _session(page))['accessToken']}"}
        # Spend the user's verify bucket (the same text: one job, the rest join it).
        drain = f"The drained claim {ULID()} is true."
        for _ in range(VERIFY_BURST + 2):
            answer = await api.post("/v1/verify", json={"text": drain}, headers=auth)
            if answer.status_code == 429:
                break
        assert answer.status_code == 429, answer.text
        await _submit(page, f"One too many {ULID()}.")
        notice = page.locator("[data-error-kind=rate]")
        await expect(notice).to_contain_text("Too many requests")
        countdown = page.get_by_test_id("retry-countdown")
        await expect(countdown).to_contain_text(re.compile(r"try again in \d+ s"))
        before = int(re.findall(r"(\d+) s", await countdown.inner_text())[0])
        await expect(page.get_by_role("button", name="Verify", exact=True)).to_be_disabled()
        await expect(countdown).not_to_contain_text(f"in {before} s", timeout=3_000)
        after = re.findall(r"(\d+) s", await countdown.inner_text())
        assert not after or int(after[0]) < before
        assert tab.errors == []


async def test_an_api_key_made_in_the_page_works_for_another_client(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """The key is shown once, with a copy button; another client verifies with it and the
    verdict shows up in the page's history; revoked, it stops working. Webhooks too."""
    async with _tab(browser) as tab, httpx.AsyncClient(base_url=stack.gateway_url) as other:
        page = tab.page
        await _register(page, stack)
        await page.get_by_role("link", name="API keys").focus()
        await page.keyboard.press("Enter")
        await expect(page).to_have_url(re.compile(r"/keys$"))
        # the focus moves to the new page's title, so a screen reader says where it is
        await expect(page.get_by_role("heading", level=1)).to_be_focused()
        await page.get_by_label("Name").fill("my platform")
        await page.get_by_role("button", name="Create key").click()
        secret = page.locator(".secret input")
        await expect(secret).to_have_value(re.compile(r"^sm_live_"))
        key = await secret.input_value()
        await expect(page.get_by_role("button", name="Copy")).to_be_visible()
        keys_list = page.get_by_role("list", name="API keys").locator("li")
        await expect(keys_list).to_have_count(1)
        await expect(keys_list).to_contain_text("my platform")
        await expect(keys_list).not_to_contain_text(key)  # only its prefix, ever again
        await _shot(page, tmp_path, "keys")

        auth = {"Authorization": f"Bearer {key}"}
        text = f"The platform claim {ULID()} is true."
        sent = await other.post("/v1/verify", json={"text": text}, headers=auth)
        assert sent.status_code in (200, 202), sent.text
        # the account's history shows the check made with the key, pushed live
        await page.get_by_role("link", name="Verify").click()
        await expect(_card(page, text)).to_have_attribute("data-stage", "done", timeout=30_000)

        await page.get_by_role("link", name="API keys").click()
        await page.get_by_role("button", name="Revoke").click()
        await page.get_by_role("button", name="Revoke now").click()
        await expect(keys_list).to_have_count(0)
        assert (await other.get("/v1/tasks", headers=auth)).status_code == 401

        await page.get_by_role("link", name="Webhooks").click()
        await page.get_by_label("URL").fill("http://127.0.0.1:9/hooks")
        await page.get_by_role("button", name="Add webhook").click()
        await expect(page.locator(".secret input")).to_have_value(re.compile(r"^whsec_"))
        hooks = page.get_by_role("list", name="Webhooks").locator("> li")
        await expect(hooks).to_contain_text("http://127.0.0.1:9/hooks")
        await hooks.get_by_role("button", name="Deliveries").click()
        await expect(hooks.get_by_text("Nothing sent yet.")).to_be_visible()
        await _shot(page, tmp_path, "webhooks")
        await hooks.get_by_role("button", name="Delete").click()
        await hooks.get_by_role("button", name="Delete now").click()
        await expect(hooks).to_have_count(0)
        assert tab.errors == []


async def test_a_queued_check_is_cancelled_from_its_card(stack: Stack, browser: Browser) -> None:
    async with _tab(browser) as tab:
        page = tab.page
        await _register(page, stack)
        async with _workers_paused(stack):
            text = f"The cancelled claim {ULID()} is false."
            await _submit(page, text)
            card = _card(page, text)
            await expect(card.get_by_role("list", name="Progress")).to_contain_text("Queued")
            await card.get_by_role("button", name="Cancel").click()
            await expect(card).to_have_attribute("data-stage", "failed", timeout=10_000)
            await expect(card).to_contain_text("Cancelled")
            await expect(card).to_contain_text("TASK-CANCELLED")
        assert tab.errors == []


async def test_the_admin_pauses_intake_and_a_user_is_told(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    admin = await _admin(stack, "ops")
    async with httpx.AsyncClient(base_url=stack.gateway_url) as api:
        async with _tab(browser) as ops, _tab(browser) as user:
            await _register(user.page, stack)
            await expect(user.page.get_by_role("link", name="Operations")).to_have_count(0)
            page = ops.page
            await _login(page, stack, admin, "/ops")  # a deep link survives the login
            await expect(page.get_by_role("heading", name="Operations")).to_be_visible()
            await expect(page.get_by_test_id("ops-live")).to_contain_text("Updated")
            await expect(page.get_by_test_id("gauges")).to_contain_text("Backlog")
            workers = page.get_by_role("region", name="Worker list").locator("tbody tr")
            await expect(workers).not_to_have_count(0)
            resumed = False
            try:
                await page.get_by_label("Reason (kept in the audit log)").fill("maintenance")
                await page.get_by_role("button", name="Pause intake").click()
                await expect(page.get_by_test_id("intake")).to_have_text(
                    re.compile("Paused: maintenance")
                )
                await expect(
                    page.get_by_role("list", name=re.compile("Latest actions"))
                ).to_contain_text("intake.pause")
                await _shot(page, tmp_path, "ops")

                await _submit(user.page, f"A claim {ULID()} while paused.")
                notice = user.page.locator("[data-error-kind=paused]")
                await expect(notice).to_contain_text("paused for maintenance")
                await expect(notice).to_contain_text("Code: BE-PAUSED-503")
                await _shot(user.page, tmp_path, "paused-user", full_page=False)

                await page.get_by_role("button", name="Resume intake").click()
                await expect(page.get_by_test_id("intake")).to_have_text(re.compile("Open"))
                resumed = True
            finally:
                if not resumed:  # never leave the shared stack paused
                    token = (await _session(page))["accessToken"]
                    await api.post(
                        "/v1/admin/intake",
                        json={"paused": False},
                        headers={"Authorization": f"Bearer {token}"},
                    )
            assert ops.errors == [] and user.errors == []


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


async def test_the_admin_replays_a_dead_letter_from_the_ops_page(
    stack: Stack, browser: Browser
) -> None:
    """A job that died is replayed from the page; its user (here the admin) gets the
    verdict, and the audit log says who did it."""
    admin = await _admin(stack, "dlq")
    async with _tab(browser) as tab:
        page = tab.page
        await _login(page, stack, admin)
        text = f"The replayed claim {ULID()} is true."
        async with _workers_paused(stack) as switch:
            async with page.expect_response(re.compile(r"/v1/verify$")) as answer:
                await _submit(page, text)
            task_id = (await (await answer.value).json())["taskId"]
            await expect(_card(page, text)).to_have_attribute("data-stage", "queued")
            entry = _dead_letter(switch, task_id)
        await page.get_by_role("link", name="Operations").click()
        dead = page.locator(f"tr[data-entry='{entry}']")
        await expect(dead).to_contain_text("WORKER-MODEL-500")
        await dead.get_by_role("button", name="Replay").click()
        await dead.get_by_role("button", name="Replay now").click()
        await expect(dead).to_have_count(0)
        await expect(page.get_by_role("list", name=re.compile("Latest actions"))).to_contain_text(
            "dlq.replay"
        )
        await page.get_by_role("link", name="Verify").click()
        await expect(_card(page, text)).to_have_attribute("data-stage", "done", timeout=30_000)
        assert tab.errors == []


async def test_server_text_is_shown_as_text_and_only_web_links_are_links(
    stack: Stack, browser: Browser
) -> None:
    """A task whose claims carry markup and a javascript: URL (as a compromised source
    could): all of it shown as text, only http(s) sources linked (noopener noreferrer)."""
    hostile = '<img src=x onerror="window.__pwned = true">'
    evidence = {
        "claim": "Known claim", "verdict": "true", "explanation": hostile,
        "sourceUrl": "https://example.org/source", "sourceName": "Example", "similarity": 0.9,
    }  # fmt: skip
    task = {
        "taskId": "01HOSTILE", "text": f"the text {hostile}", "status": "done", "cached": False,
        "error": None, "model": None, "createdAt": "2025-01-01T00:00:00+00:00",
        "updatedAt": "2025-01-01T00:00:00+00:00", "completedAt": None, "stages": [],
        "result": {
            "mark": "Incorrect", "reason": "overall", "confidence": 80,
            "method": f"word-level check {hostile}",
            "claims": [
                {"text": "First claim.", "mark": "Correct", "reason": "entailed",
                 "confidence": 90, "stance": "entails", "evidence": evidence},
                {"text": hostile, "mark": "Incorrect", "reason": hostile, "confidence": 70,
                 "stance": "contradicts",
                 "evidence": {**evidence, "sourceUrl": "javascript:window.__pwned=true",
                              "sourceName": None}},
            ],
        },
    }  # fmt: skip
    async with _tab(browser) as tab:
        page = tab.page

        async def fake_history(route: Any) -> None:
            await route.fulfill(json={"items": [task], "nextCursor": None})

        await page.route(re.compile(r"/v1/tasks(\?.*)?$"), fake_history)
        await _register(page, stack)
        card = page.locator("article.task[data-task-id='01HOSTILE']")
        await card.locator("summary").click()
        claims = card.locator("ol.claims > li")
        await expect(claims).to_have_count(2)
        await expect(claims.nth(0)).to_contain_text("First claim.")
        link = claims.nth(0).locator("a")
        assert await link.get_attribute("href") == "https://example.org/source"
        assert await link.get_attribute("rel") == "noopener noreferrer"
        await expect(link).to_contain_text("Example")
        await expect(claims.nth(1)).to_contain_text(hostile)  # as text
        assert await claims.nth(1).locator("a").count() == 0  # a javascript: URL is no link
        await expect(page.get_by_test_id("method")).to_contain_text(f"word-level check {hostile}")
        assert await page.locator("main img").count() == 0
        assert await page.evaluate("window.__pwned === undefined")
        assert tab.errors == []


def _task(task_id: str, text: str, created: str) -> dict[str, Any]:
    return {
        "taskId": task_id, "text": text, "status": "failed", "cached": False,
        "result": None, "error": {"errorCode": "TASK-CANCELLED", "message": "cancelled"},
        "model": None, "createdAt": created, "updatedAt": created, "completedAt": created,
        "stages": [],
    }  # fmt: skip


async def test_history_pages_on_with_load_more(stack: Stack, browser: Browser) -> None:
    """The history comes a page at a time: "Load more" asks for the next with the last
    page's cursor, and the button goes once there is no more."""
    first = [_task(f"01PAGEA{i}", f"Page one, task {i}.", f"2025-01-02T00:0{i}:00+00:00")
             for i in range(3)][::-1]  # fmt: skip
    second = [_task("01PAGEB0", "Page two, the oldest task.", "2025-01-01T00:00:00+00:00")]
    asked: list[str | None] = []
    async with _tab(browser) as tab:
        page = tab.page

        async def fake_history(route: Any) -> None:
            cursor = httpx.URL(route.request.url).params.get("cursor")
            asked.append(cursor)
            if cursor is None:
                await route.fulfill(json={"items": first, "nextCursor": "01PAGEA0"})
            else:
                await route.fulfill(json={"items": second, "nextCursor": None})

        await page.route(re.compile(r"/v1/tasks(\?.*)?$"), fake_history)
        await _register(page, stack)
        cards = page.locator("article.task")
        await expect(cards).to_have_count(3)
        await page.get_by_role("button", name="Load more").click()
        await expect(cards).to_have_count(4)
        await expect(cards.last).to_contain_text("Page two, the oldest task.")
        await expect(page.get_by_role("button", name="Load more")).to_have_count(0)
        assert asked == [None, "01PAGEA0"]
        assert tab.errors == []


async def test_no_serious_accessibility_violations(
    stack: Stack, browser: Browser, tmp_path: Path
) -> None:
    """axe-core on every page (light and dark, desktop and 360 px). Injecting axe needs
    an inline script, so these contexts bypass the CSP; the other tests keep it."""
    admin = await _admin(stack, "a11y")
    async with _tab(browser, bypass_csp=True) as tab:
        page = tab.page
        await page.goto(stack.gateway_url + "/")
        await _axe(page, "login")
        await _shot(page, tmp_path, "login", full_page=False)
        await _login(page, stack, admin)
        text = CLAIMS_TEXT.format(ULID())
        await _submit(page, text)
        await expect(_card(page, text)).to_have_attribute("data-stage", "done", timeout=30_000)
        await _axe(page, "verify")
        for name in ("API keys", "Webhooks", "Operations"):
            await page.get_by_role("link", name=name).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(name)
            await _axe(page, name)
        await page.get_by_role("button", name="Dark mode").click()
        await _axe(page, "operations, dark")
        await _shot(page, tmp_path, "ops-dark")
        await page.get_by_role("link", name="Verify").click()
        await expect(_card(page, text)).to_be_visible()
        await _axe(page, "verify, dark")
        await page.set_viewport_size(PHONE)
        await _axe(page, "verify, dark, 360 px")
        await _shot(page, tmp_path, "verify-dark-360px")
        assert tab.errors == []
