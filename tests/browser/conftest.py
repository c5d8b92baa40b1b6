"""A real headless Chromium (Debian's, installed by `make test`) driven by Playwright.

Playwright's own browser download is never used: the browser is /usr/bin/chromium (or
``TOKENWARD_TEST_CHROMIUM``), started with flags that keep it off the network beyond loopback.
Each test gets a fresh context: an empty cookie jar and storage, like a new browser profile.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Playwright, expect, sync_playwright

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
