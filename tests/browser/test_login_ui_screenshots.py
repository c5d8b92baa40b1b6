"""docs/login-ui.md shows a picture of every page. The pictures are taken by the login-page
tests (test_login_ui.py, test_login_ui_mfa.py); pytest runs files in name order, so this file
comes after both and sees everything the run took."""

from __future__ import annotations

import re

from tests.browser.test_login_ui import DOCS_SCREENSHOTS, SCREENSHOTS


def test_docs_show_a_screenshot_of_every_page() -> None:
    """docs/login-ui.md embeds a picture of each page, taken by these tests (make screenshots)."""
    text = (DOCS_SCREENSHOTS.parent / "login-ui.md").read_text()
    taken = {p.stem for p in SCREENSHOTS.glob("*.png")} or None
    shown = set(re.findall(r"screenshots/([\w-]+)\.png", text))
    assert shown >= {
        "sign-in",
        "sign-up",
        "forgot-password",
        "reset-password",
        "verify-email-done",
        "account",
        "sign-in-code",
    }
    for name in shown:
        assert (DOCS_SCREENSHOTS / f"{name}.png").is_file(), name
    if taken is not None:  # this run's pictures cover every one the docs show
        assert shown <= taken
