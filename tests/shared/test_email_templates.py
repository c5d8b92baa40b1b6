"""Email content and links: escaping, link format, the stated lifetime, and the template files."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from html.parser import HTMLParser
from importlib import resources
from urllib.parse import parse_qs, urlsplit

import pytest

from tokenward.config import Settings
from tokenward.shared.email_delivery import EmailMessage
from tokenward.shared.email_templates import (
    email_verification_email,
    human_duration,
    password_reset_email,
    reset_link,
    verification_link,
)

TO = "ada@example.com"
LINK = "https://app.example.com/auth/reset-password?token=abc&tenantId=public"
PLACEHOLDERS = {"app_name", "link", "subject", "valid_for"}
VOID_ELEMENTS = {"meta", "br", "img", "hr", "link", "input"}


def settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "api_domain": "https://api.example.com",
        "website_domain": "https://app.example.com",
        "email_backend": "smtp",
        "smtp_host": "smtp.example.com",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def both_emails(link: str = LINK, app_name: str = "Example") -> list[EmailMessage]:
    return [
        password_reset_email(TO, link, app_name=app_name, valid_for_s=3600),
        email_verification_email(TO, link, app_name=app_name, valid_for_s=86_400),
    ]


# --- links ---------------------------------------------------------------------------------


def test_reset_link_uses_the_configured_website_and_supertokens_format() -> None:
    link = reset_link(settings(), "tok123")
    assert link == "https://app.example.com/auth/reset-password?token=tok123&tenantId=public"


def test_verification_link_format_and_tenant() -> None:
    link = verification_link(settings(website_base_path="/login"), "tok123", tenant_id="acme")
    assert link == "https://app.example.com/login/verify-email?token=tok123&tenantId=acme"


def test_link_defaults_to_the_api_domain_when_no_website_domain() -> None:
    s = Settings(api_domain="https://auth.example.com", email_backend="console")
    assert reset_link(s, "t").startswith("https://auth.example.com/auth/reset-password?")


def test_root_base_path_gives_no_double_slash() -> None:
    assert reset_link(settings(website_base_path="/"), "t") == (
        "https://app.example.com/reset-password?token=t&tenantId=public"
    )


@pytest.mark.parametrize("link_for", [reset_link, verification_link])
def test_token_and_tenant_are_url_encoded(link_for: Callable[[Settings, str, str], str]) -> None:
    token = "a+b/c=d&e f?g#h%"
    tenant = "t&x=1"
    link = link_for(settings(), token, tenant)
    parts = urlsplit(link)
    assert parts.fragment == ""
    assert parse_qs(parts.query) == {"token": [token], "tenantId": [tenant]}
    assert "a%2Bb%2Fc%3Dd%26e%20f%3Fg%23h%25" in link


# --- rendering -----------------------------------------------------------------------------


def test_password_reset_email_content() -> None:
    message = password_reset_email(TO, LINK, app_name="Example", valid_for_s=3600)
    assert message.to == TO
    assert message.subject == "Reset your password for Example"
    assert LINK in message.text
    assert "1 hour" in message.text and "1 hour" in message.html
    assert "ignore this email" in message.text and "ignore this email" in message.html


def test_email_verification_email_content() -> None:
    message = email_verification_email(TO, LINK, app_name="Example", valid_for_s=86_400)
    assert message.subject == "Verify your email address for Example"
    assert LINK in message.text
    assert "24 hours" in message.text and "24 hours" in message.html
    assert "ignore this email" in message.text and "ignore this email" in message.html


@pytest.mark.parametrize("index", [0, 1])
def test_html_shows_the_link_as_a_button_and_as_visible_text(index: int) -> None:
    html = both_emails()[index].html
    escaped = LINK.replace("&", "&amp;")
    assert html.count(f'href="{escaped}"') == 2
    assert f">{escaped}</a>" in html


def test_app_name_is_escaped_in_html() -> None:
    name = '<script>alert("x")</script> & Co'
    for message in both_emails(app_name=name):
        assert "<script>" not in message.html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in message.html
        assert name in message.text  # plain text is not markup: shown as is
        assert message.subject.endswith(name)


def test_link_cannot_break_out_of_the_href_attribute() -> None:
    link = 'https://app.example.com/r?token="><img src=x onerror=alert(1)>'
    for message in both_emails(link=link):
        assert "<img" not in message.html
        assert "token=&quot;&gt;&lt;img" in message.html


def test_dollar_signs_in_values_are_not_template_syntax() -> None:
    for message in both_emails(app_name="$link Pay$ave"):
        assert "$link Pay$ave" in message.text


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,x", "/relative"])
def test_only_web_links_are_accepted(link: str) -> None:
    with pytest.raises(ValueError, match="http"):
        password_reset_email(TO, link, app_name="Example", valid_for_s=3600)


class _Structure(HTMLParser):
    """Collects what the accessibility and self-containment checks look at."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.errors: list[str] = []
        self.attrs: dict[str, list[dict[str, str | None]]] = {}
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.setdefault(tag, []).append(dict(attrs))
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@pytest.mark.parametrize("index", [0, 1])
def test_html_is_well_formed_accessible_and_self_contained(index: int) -> None:
    message = both_emails()[index]
    parser = _Structure()
    parser.feed(message.html)
    parser.close()
    assert parser.errors == [] and parser.open == []
    assert parser.attrs["html"][0].get("lang") == "en"
    assert parser.title == message.subject
    assert all(t.get("role") == "presentation" for t in parser.attrs["table"])
    # No external resources and no stylesheet: inline styles only.
    assert not {"img", "link", "style", "script", "iframe"} & parser.attrs.keys()
    assert not re.search(r"\b(src|class)=", message.html)
    assert {a.get("href") for a in parser.attrs["a"]} == {LINK}


# --- lifetimes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (1, "1 second"),
        (59, "59 seconds"),
        (60, "1 minute"),
        (90, "1 minute"),
        (900, "15 minutes"),
        (3600, "1 hour"),
        (5400, "90 minutes"),
        (7200, "2 hours"),
        (86_400, "24 hours"),
        (172_800, "2 days"),
        (604_800, "7 days"),
        (90_000, "25 hours"),
    ],
)
def test_human_duration(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def test_human_duration_refuses_non_positive() -> None:
    with pytest.raises(ValueError):
        human_duration(0)


# --- template files ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "password_reset.txt",
        "password_reset.html",
        "email_verification.txt",
        "email_verification.html",
    ],
)
def test_template_files_ship_as_package_data_with_known_placeholders(name: str) -> None:
    text = (resources.files("tokenward") / "templates" / "email" / name).read_text("utf-8")
    template = string.Template(text)
    assert template.is_valid()
    assert set(template.get_identifiers()) <= PLACEHOLDERS
    assert {"app_name", "link", "valid_for"} <= set(template.get_identifiers())
