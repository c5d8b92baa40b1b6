"""Cookie SameSite/Secure defaults and the anti-CSRF mode that follows from them."""

from __future__ import annotations

import pytest

from tokenward.recipes.session.rules.cookie_policy import (
    AntiCsrfMode,
    SameSite,
    anti_csrf_mode,
    check_cookie_policy,
    same_site,
    secure,
    site_of,
)


@pytest.mark.parametrize(
    ("api", "website", "expected"),
    [
        # The SuperTokens python SDK's own table, where it does not need the PSL.
        ("https://foo.com/", "https://bar.com/", "none"),
        ("https://foo.example.com/", "https://bar.example.com/", "lax"),
        ("http://foo.example.com/", "http://foo.example.com/", "lax"),
        ("http://example.com/", "http://example.com/", "lax"),
        # Scheme differences are cross-site.
        ("https://api.example.com", "http://www.example.com", "none"),
        # Ports do not matter for sites.
        ("http://localhost:3001", "http://localhost:3000", "lax"),
        ("http://127.0.0.1:3001", "http://127.0.0.1:3000", "lax"),
        ("http://localhost:3001", "http://127.0.0.1:3000", "none"),
        ("http://[::1]:3001", "http://[::1]:3000", "lax"),
        ("http://10.0.0.1", "http://10.0.0.2", "none"),  # IPs are their own site
        # Bare hosts get the SDKs' default scheme.
        ("api.example.com", "https://example.com", "lax"),
        ("localhost:3001", "http://localhost:3000", "lax"),
        ("localhost:3001", "https://localhost:3000", "none"),
        # Case and trailing dots do not matter.
        ("https://API.Example.COM.", "https://example.com", "lax"),
        # Documented limitation: no public-suffix list, so these count as same-site.
        ("https://foo.azurewebsites.net", "https://bar.azurewebsites.net", "lax"),
    ],
)
def test_same_site_defaults(api: str, website: str, expected: SameSite) -> None:
    assert same_site(api, website) == expected


@pytest.mark.parametrize("override", ["lax", "none", "strict"])
def test_explicit_same_site_wins(override: SameSite) -> None:
    assert same_site("https://a.com", "https://b.com", override) == override
    assert same_site("https://a.com", "https://a.com", override) == override


def test_site_of() -> None:
    assert site_of("a.b.example.com") == "example.com"
    assert site_of("example.com") == "example.com"
    assert site_of("intranet") == "intranet"
    assert site_of("localhost") == "localhost"
    assert site_of("192.168.1.10") == "192.168.1.10"
    assert site_of("::1") == "::1"


def test_invalid_origin() -> None:
    with pytest.raises(ValueError):
        same_site("https://", "https://example.com")


@pytest.mark.parametrize(
    ("api", "override", "expected"),
    [
        ("https://api.example.com", None, True),
        ("http://api.example.com", None, False),
        ("http://localhost:3001", None, False),
        ("api.example.com", None, True),  # bare hosts normalise to https
        ("localhost:3001", None, False),
        ("HTTPS://api.example.com", None, True),
        ("http://api.example.com", True, True),
        ("https://api.example.com", False, False),
    ],
)
def test_secure(api: str, override: bool | None, expected: bool) -> None:
    assert secure(api, override) is expected


@pytest.mark.parametrize(
    ("cookie_same_site", "override", "expected"),
    [
        ("none", None, AntiCsrfMode.VIA_CUSTOM_HEADER),
        ("lax", None, AntiCsrfMode.NONE),
        ("strict", None, AntiCsrfMode.NONE),
        ("lax", AntiCsrfMode.VIA_TOKEN, AntiCsrfMode.VIA_TOKEN),
        ("none", AntiCsrfMode.NONE, AntiCsrfMode.NONE),
        ("none", AntiCsrfMode.VIA_TOKEN, AntiCsrfMode.VIA_TOKEN),
    ],
)
def test_anti_csrf_mode(
    cookie_same_site: SameSite, override: AntiCsrfMode | None, expected: AntiCsrfMode
) -> None:
    assert anti_csrf_mode(cookie_same_site, override) is expected


def test_anti_csrf_mode_values_match_the_sdks() -> None:
    assert {m.value for m in AntiCsrfMode} == {"NONE", "VIA_CUSTOM_HEADER", "VIA_TOKEN"}


def test_default_policy_end_to_end() -> None:
    api, web = "https://api.example.com", "https://app.other.com"
    site = same_site(api, web)
    assert (site, secure(api), anti_csrf_mode(site)) == (
        "none",
        True,
        AntiCsrfMode.VIA_CUSTOM_HEADER,
    )
    check_cookie_policy(site, secure(api), api, web)


def test_same_site_none_requires_secure_except_locally() -> None:
    with pytest.raises(ValueError):
        check_cookie_policy("none", False, "http://api.example.com", "http://app.other.com")
    check_cookie_policy("none", False, "http://localhost:3001", "http://127.0.0.1:3000")
    with pytest.raises(ValueError):
        check_cookie_policy("none", False, "http://localhost:3001", "http://app.example.com")
    check_cookie_policy("lax", False, "http://api.example.com", "http://app.other.com")
    check_cookie_policy("none", True, "http://api.example.com", "http://app.other.com")
