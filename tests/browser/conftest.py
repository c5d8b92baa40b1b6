"""A real headless Chromium (Debian's, installed by `make test`) driven by Playwright.

Playwright's own browser download is never used: the browser is /usr/bin/chromium (or
``TOKENWARD_TEST_CHROMIUM``), started with flags that keep it off the network beyond loopback.
Each test gets a fresh context: an empty cookie jar and storage, like a new browser profile.

The official SDK's test page (tests/browser/js, bundled by scripts/browser-deps.sh) and its
drivers live here too: a module that uses them defines a ``site`` fixture (the API and the page
origin), and its tests take ``browser``, once in cookie mode and once in header mode.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    Request,
    expect,
    sync_playwright,
)

# Assertions wait for the page as long as actions do (Playwright's default is 5 s): on a busy
# 2-core machine a refresh and a re-render can take longer, and waiting is not asserting speed.
expect.set_options(timeout=15_000)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = os.environ.get("TOKENWARD_TEST_CHROMIUM") or shutil.which("chromium")
    if not path:
        raise RuntimeError("Chromium is missing: `make test` installs Debian's chromium package")
    return path


# Package scope: the sync API keeps an event loop marked running while it is alive, which
# would break the async tests that run after this package.
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def chromium(playwright_driver: Playwright) -> Iterator[Browser]:
    browser = playwright_driver.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_FLAGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture
def browser_context(chromium: Browser) -> Iterator[BrowserContext]:
    context = chromium.new_context(viewport={"width": 1100, "height": 800})
    context.set_default_timeout(15_000)
    yield context
    context.close()


# --- the official SDK's test page -------------------------------------------------------------

JS = Path(__file__).resolve().parent / "js"
REFRESH_PATH = "/auth/session/refresh"
SESSION_TOKENS = ("sAccessToken", "sRefreshToken", "st-access-token", "st-refresh-token")


class PageHandler(BaseHTTPRequestHandler):
    """Serves the test page and the SDK bundle, nothing else. The page is at /, at
    /auth/verify, where magic links land (website_base_path /auth), and at
    /auth/callback/acme, where the third-party provider "acme" sends the browser back."""

    page = ("page.html", "text/html")
    files = {
        "/": page,
        "/auth/verify": page,
        "/auth/callback/acme": page,
        "/page.js": ("dist/page.js", "text/javascript"),
    }

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path not in self.files:
            self.send_error(404)
            return
        name, content_type = self.files[path]
        body = (JS / name).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def page_server() -> Iterator[str]:
    """The test page on http://localhost:<free port>; yields that origin."""
    if not (JS / "dist" / "page.js").is_file():
        pytest.fail("the SDK bundle is missing: run `bash scripts/browser-deps.sh`")
    pages = ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    thread = threading.Thread(target=pages.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{pages.server_address[1]}"
    finally:
        pages.shutdown()
        pages.server_close()


@dataclass(frozen=True)
class Site:
    api: str
    page: str


class Tab:
    """One browser tab on the test page; calls the page's window.tw functions."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def __call__(self, name: str, *args: Any) -> Any:
        return self.page.evaluate("([name, args]) => window.tw[name](...args)", [name, list(args)])

    def goto(self, url: str) -> None:
        """Open ``url`` (a page of the site) in this tab and wait for the SDK."""
        self.page.goto(url)
        self.page.wait_for_function("() => window.tw !== undefined")


@dataclass
class SdkBrowser:
    """A browser profile (one context) on the page, in one token transfer method."""

    context: BrowserContext
    site: Site
    mode: str
    refreshes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.context.on("request", self._count)

    def _count(self, request: Request) -> None:
        if request.method == "POST" and urlsplit(request.url).path == REFRESH_PATH:
            self.refreshes.append(request.url)

    def wait_for_expiry(self, tab: Tab) -> None:
        """Until the access token has expired by the page's clock (the server's too: same
        machine); then count refreshes from zero (a slow setup may have renewed it already)."""
        tab.page.wait_for_function("() => window.tw.expired()", polling=50)
        self.refreshes.clear()

    def open_tab(self, url: str | None = None) -> Tab:
        """A new tab on the page (with the API and mode in its query), or on ``url``."""
        query = urlencode({"api": self.site.api, "mode": self.mode})
        tab = Tab(self.context.new_page())
        tab.goto(url or f"{self.site.page}/?{query}")
        return tab

    def cookies(self, *names: str) -> dict[str, str]:
        jar = {c["name"]: c["value"] for c in self.context.cookies() if c["value"]}
        return {name: jar[name] for name in names if name in jar}

    def session_tokens(self) -> set[str]:
        """The names of the session tokens the browser holds (cookies, or the SDK's own
        cookies on the page's origin in header mode)."""
        return set(self.cookies(*SESSION_TOKENS))

    def expected_session_tokens(self) -> set[str]:
        if self.mode == "cookie":
            return {"sAccessToken", "sRefreshToken"}
        return {"st-access-token", "st-refresh-token"}

    def refresh_token(self) -> str:
        name = "sRefreshToken" if self.mode == "cookie" else "st-refresh-token"
        return self.cookies(name)[name]

    def refresh_outside_the_browser(self, refresh_token: str) -> httpx.Response:
        """POST /auth/session/refresh with ``refresh_token`` the way this mode carries it."""
        headers = {"rid": "session", "st-auth-mode": self.mode}
        if self.mode == "cookie":
            headers["cookie"] = f"sRefreshToken={refresh_token}"
        else:
            headers["authorization"] = f"Bearer {refresh_token}"
        return httpx.post(self.site.api + REFRESH_PATH, headers=headers)


@pytest.fixture(params=["cookie", "header"])
def browser(
    request: pytest.FixtureRequest, browser_context: BrowserContext, site: Site
) -> SdkBrowser:
    """The test page in a fresh profile, in cookie mode and in header mode, against the
    requesting module's ``site``."""
    return SdkBrowser(browser_context, site, str(request.param))


def new_email() -> str:
    return f"web-{uuid.uuid4().hex[:12]}@example.com"
