"""Real Chromium against real daphne processes.

Every test here runs inside the loopback-only network namespace the test
command creates (``tests/isolated.sh``): the server, Chromium and its WebRTC
stacks can reach nothing but 127.0.0.1. One browser *context* per person
(separate cookies, separate signed-in user).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.servers import DaphneServer, database_url_for_subprocess
from tests.sessions import session_for

pytestmark = pytest.mark.browser

# Required and sufficient for WebRTC with fake media on a loopback-only host:
# auto-grant camera/microphone, synthesize them, and gather loopback candidates.
# Three fake cameras, so that switching cameras mid-call is a real switch:
# fake_device_0 (I420) and fake_device_2 (MJPEG) can be sent; fake_device_1 is
# a depth camera (Y16) whose frames WebRTC cannot encode. The microphones are
# always "Fake Default Audio Input", "Fake Audio Input 1" and "2", the
# speakers "Fake Default Audio Output", "Fake Audio Output 1" and "2".
CHROMIUM_ARGS = [
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream=device-count=3",
    "--allow-loopback-in-peer-connection",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_executable() -> str | None:
    """CHROMIUM_PATH, then the system Chromium, then Playwright's own (None)."""
    explicit = os.environ.get("CHROMIUM_PATH")
    if explicit:
        return explicit
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Playwright's sync API keeps an asyncio loop running in the main thread
    # from here on, which trips Django's guard against ORM calls from async
    # code. The test code here is synchronous, and every other test runs
    # before these (see the root conftest), so the guard stays on for them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "1"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_executable(), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_without_media_grant(browser: Browser) -> Iterator[Browser]:
    """Chromium with fake devices but without the flag that grants them: a
    page asking for the camera and microphone is refused, as when a person
    blocks the prompt.

    Without camera permission Chromium hides its host candidates behind mDNS
    names, which nothing resolves in the loopback-only namespace (on a real
    network mDNS, STUN or TURN provide the path): the test browser shows them.
    """
    args = [arg for arg in CHROMIUM_ARGS if arg != "--use-fake-ui-for-media-stream"]
    ungranted = browser.browser_type.launch(
        executable_path=chromium_executable(),
        args=[*args, "--disable-features=WebRtcHideLocalIpsWithMdns"],
    )
    yield ungranted
    ungranted.close()


@pytest.fixture
def start_server(
    transactional_db: None, artifacts_dir: Path
) -> Iterator[Callable[..., DaphneServer]]:
    """Start daphne processes on the test database; ``env`` adds settings."""
    servers: list[DaphneServer] = []

    def start(env: dict[str, str] | None = None, port: int | None = None) -> DaphneServer:
        full_env = {"DATABASE_URL": database_url_for_subprocess(), **(env or {})}
        server = DaphneServer(artifacts_dir / "daphne", env=full_env, port=port).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def app_server(start_server: Callable[..., DaphneServer]) -> DaphneServer:
    """One daphne with the default (in-memory) channel layer."""
    return start_server()


@pytest.fixture
def new_context(browser: Browser, artifacts_dir: Path, request: pytest.FixtureRequest):
    """Browser contexts, optionally signed in as a user (a real session cookie).

    Console errors and page errors are collected on ``context.errors`` so a
    test can assert the page ran cleanly.
    """
    contexts: list[BrowserContext] = []

    def make(
        server: DaphneServer,
        user=None,
        *,
        locale: str = "en-US",
        viewport: dict[str, int] | None = None,
    ) -> BrowserContext:
        context = browser.new_context(
            base_url=server.url,
            locale=locale,
            viewport=viewport or {"width": 1280, "height": 800},
        )
        context.errors = []  # type: ignore[attr-defined]
        if user is not None:
            session = session_for(user)
            context.add_cookies([{"name": "sessionid", "value": session, "url": server.url}])

        def watch(page: Page) -> None:
            page.on(
                "console",
                lambda msg: msg.type == "error" and context.errors.append(msg.text),  # type: ignore[attr-defined]
            )
            page.on("pageerror", lambda exc: context.errors.append(str(exc)))  # type: ignore[attr-defined]

        context.on("page", watch)
        contexts.append(context)
        return context

    yield make
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, context in enumerate(contexts):
        if failed:
            shots = artifacts_dir / "screenshots"
            shots.mkdir(exist_ok=True)
            for number, page in enumerate(context.pages):
                page.screenshot(path=shots / f"{request.node.name}-{index}-{number}.png")
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- Call fixtures ---------------------------------------------------------------

# Small video under test: 3–5 pages of fake media share two cores.
CALL_TEST_ENV = {"CALL_VIDEO": "320x180@15"}


@pytest.fixture
def call_server(start_server: Callable[..., DaphneServer]) -> DaphneServer:
    """One daphne with small call video and short signaling timers."""
    return start_server(CALL_TEST_ENV)


@pytest.fixture
def make_user(django_user_model):
    """Create a user whose display name is shown in calls."""

    def make(username: str, display_name: str = ""):
        return django_user_model.objects.create_user(
            username=username,
            email=f"{username}@example.com",
            password="pw-not-used-0123",
            display_name=display_name or username.capitalize(),
        )

    return make
