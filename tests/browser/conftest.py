"""A real uvicorn server and Debian's chromium for the workbench's browser tests.

The tests skip, saying why, only when no chromium binary is found (``.ci/run`` installs
the ``chromium`` package first) or the ``playwright`` package is missing. Playwright
drives the system browser (``executable_path``); ``playwright install`` is never run.
Screenshots go to ``$FUPIN_SCREENSHOTS`` (default: a temporary folder).
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "workbench-browser-test-token-0123456789"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("FUPIN_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``fupin serve policy/`` (with a token) on a free port, in a thread: its base URL."""
    import uvicorn

    from fupin.web.app import create_app
    from fupin.web.config import ServeConfig

    port = free_port()
    config = ServeConfig(policy=str(ROOT / "policy"), port=port, token=TOKEN,
                         work_dir=str(tmp_path_factory.mktemp("serve")))
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


# module scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and later tests that call asyncio.run() must not find it
@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium found (/usr/bin/chromium): install Debian's chromium package "
                    "(apt-get install chromium fonts-noto-cjk) to run the browser tests")
    playwright = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def shots() -> Path:
    folder = Path(os.environ.get("FUPIN_SCREENSHOTS") or tempfile.mkdtemp(prefix="fupin-shots-"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def context(browser, server):
    """One signed-in browser context (the login form sets the token cookie), recording
    every request so a test can assert that no page reaches beyond the server."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    ctx.requests = []
    ctx.on("request", lambda request: ctx.requests.append(request.url))
    page = ctx.new_page()
    page.goto(f"{server}/login")
    page.fill("#token", TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(f"{server}/")
    page.close()
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    page.close()
