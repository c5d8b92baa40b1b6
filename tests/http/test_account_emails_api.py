"""Password reset and email verification over HTTP, with the emails delivered to a real SMTP
server (aiosmtpd) from which the tests read the links. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.api import Api, front, running_api
from tests.support.smtp import SmtpSink, first_url, smtp_settings, token_from

EP = {"rid": "emailpassword", "fdi-version": "4.1"}
EV = {"rid": "emailverification", "fdi-version": "4.1"}
PASSWORD = "first long passphrase"
NEW_PASSWORD = "second long passphrase"


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
async def api(database_url: str, smtp: SmtpSink) -> AsyncIterator[Api]:
    async with running_api(database_url, **smtp_settings(smtp)) as running:
        yield running


async def sign_up(api: Api, email: str) -> dict[str, Any]:
    response = await api.client.post(
        "/auth/signup", json=form(email=email, password=PASSWORD), headers=EP
    )
    assert response.json()["status"] == "OK"
    return {
        "user": response.json()["user"],
        "access": response.headers["st-access-token"],
        "refresh": response.headers["st-refresh-token"],
    }


async def ask_reset(api: Api, email: str, **headers: str) -> dict[str, Any]:
    response = await api.client.post(
        "/auth/user/password/reset/token", json=form(email=email), headers=EP | headers
    )
    assert response.status_code == 200
    return dict(response.json())


async def reset(api: Api, token: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    response = await api.client.post(
        "/auth/user/password/reset",
        json={"method": "token", "token": token, **form(password=password)},
        headers=EP,
    )
    assert response.status_code == 200
    return dict(response.json())


async def sign_in_status(api: Api, email: str, password: str) -> str:
    response = await api.client.post(
        "/auth/signin", json=form(email=email, password=password), headers=EP
    )
    return str(response.json()["status"])


async def test_password_reset_by_emailed_link(api: Api, smtp: SmtpSink) -> None:
    account = await sign_up(api, "alice@example.com")
    # The link must come from configuration, never from the request's Host header.
    assert await ask_reset(api, "Alice@example.com", host="evil.example") == {"status": "OK"}
    [mail] = smtp.received
    assert mail.rcpt_tos == ("alice@example.com",)
    link = first_url(mail)
    assert link.startswith("http://localhost:3567/auth/reset-password?token=")
    assert parse_qs(urlsplit(link).query)["tenantId"] == ["public"]
    assert html.escape(link) in mail.html(), "the HTML part carries the same link, escaped"

    assert await reset(api, token_from(link)) == {"status": "OK"}
    assert await sign_in_status(api, "alice@example.com", NEW_PASSWORD) == "OK"
    assert await sign_in_status(api, "alice@example.com", PASSWORD) == "WRONG_CREDENTIALS_ERROR"
    assert await reset(api, token_from(link), "third long passphrase") == {
        "status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"
    }
    # The reset signed the user out everywhere and proved the mailbox.
    refused = await api.client.post(
        "/auth/session/refresh", headers={"authorization": f"Bearer {account['refresh']}"}
    )
    assert refused.status_code == 401
    assert await api.runtime.stores.email_verification.is_verified(
        account["user"]["id"], "alice@example.com"
    )


async def test_reset_for_an_unknown_email_answers_ok_and_sends_nothing(
    api: Api, smtp: SmtpSink
) -> None:
    assert await ask_reset(api, "nobody@example.com") == {"status": "OK"}
    assert smtp.received == []
    assert await ask_reset(api, "not an email") == {
        "status": "FIELD_ERROR",
        "formFields": [{"id": "email", "error": "Email is not valid"}],
    }


async def test_reset_token_expires(api: Api, smtp: SmtpSink) -> None:
    await sign_up(api, "bob@example.com")
    await ask_reset(api, "bob@example.com")
    api.clock.advance(seconds=3600)
    assert await reset(api, token_from(first_url(smtp.received[0]))) == {
        "status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"
    }


async def test_weak_new_password_keeps_the_token_usable(api: Api, smtp: SmtpSink) -> None:
    await sign_up(api, "carol@example.com")
    await ask_reset(api, "carol@example.com")
    token = token_from(first_url(smtp.received[0]))
    weak = await reset(api, token, "short")
    assert weak["status"] == "FIELD_ERROR" and weak["formFields"][0]["id"] == "password"
    assert await reset(api, token) == {"status": "OK"}


async def test_concurrent_use_of_one_reset_token_succeeds_once(api: Api, smtp: SmtpSink) -> None:
    await sign_up(api, "dave@example.com")
    await ask_reset(api, "dave@example.com")
    token = token_from(first_url(smtp.received[0]))
    results = await asyncio.gather(
        *(reset(api, token, f"new passphrase number {i}") for i in range(10))
    )
    winners = [i for i, r in enumerate(results) if r == {"status": "OK"}]
    assert len(winners) == 1
    assert all(
        r == {"status": "RESET_PASSWORD_INVALID_TOKEN_ERROR"}
        for i, r in enumerate(results)
        if i not in winners
    )
    assert (
        await sign_in_status(api, "dave@example.com", f"new passphrase number {winners[0]}") == "OK"
    )


async def test_smtp_outage_is_a_clear_retryable_error(api: Api, smtp: SmtpSink) -> None:
    await sign_up(api, "erin@example.com")
    smtp.stop()
    failed = await ask_reset(api, "erin@example.com")
    assert failed["status"] == "GENERAL_ERROR"
    assert "try again" in failed["message"]
    smtp.start()
    assert await ask_reset(api, "erin@example.com") == {"status": "OK"}
    assert await reset(api, token_from(first_url(smtp.received[-1]))) == {"status": "OK"}


async def test_email_verification_required(database_url: str, smtp: SmtpSink) -> None:
    async with running_api(
        database_url, email_verification="REQUIRED", **smtp_settings(smtp)
    ) as api:
        account = await sign_up(api, "frank@example.com")
        assert account["user"]["loginMethods"][0]["verified"] is False
        bearer = {"authorization": f"Bearer {account['access']}"}
        blocked = await api.client.get("/test/session", headers=bearer)
        assert blocked.status_code == 403
        assert blocked.json()["claimValidationErrors"][0]["id"] == "st-ev"

        status = await api.client.get("/auth/user/email/verify", headers=bearer | EV)
        assert status.json() == {"status": "OK", "isVerified": False}
        sent = await api.client.post("/auth/user/email/verify/token", headers=bearer | EV)
        assert sent.json() == {"status": "OK"}
        [mail] = smtp.received
        link = first_url(mail)
        assert link.startswith("http://localhost:3567/auth/verify-email?token=")

        verified = await api.client.post(
            "/auth/user/email/verify",
            json={"method": "token", "token": token_from(link)},
            headers=EV,
        )
        assert verified.json() == {"status": "OK"}
        again = await api.client.post(
            "/auth/user/email/verify",
            json={"method": "token", "token": token_from(link)},
            headers=EV,
        )
        assert again.json() == {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}

        # GET /user/email/verify refreshes the claim: a new access token comes back.
        refreshed = await api.client.get("/auth/user/email/verify", headers=bearer | EV)
        assert refreshed.json() == {"status": "OK", "isVerified": True}
        assert front(refreshed).payload["st-ev"]["v"] is True
        new_bearer = {"authorization": f"Bearer {refreshed.headers['st-access-token']}"}
        assert (await api.client.get("/test/session", headers=new_bearer)).status_code == 200
        already = await api.client.post("/auth/user/email/verify/token", headers=new_bearer | EV)
        assert already.json() == {"status": "EMAIL_ALREADY_VERIFIED_ERROR"}
        assert len(smtp.received) == 1


async def test_verification_link_expires_and_needs_a_session_to_send(
    api: Api, smtp: SmtpSink
) -> None:
    account = await sign_up(api, "grace@example.com")
    assert (await api.client.post("/auth/user/email/verify/token", headers=EV)).status_code == 401
    bearer = {"authorization": f"Bearer {account['access']}"}
    await api.client.post("/auth/user/email/verify/token", headers=bearer | EV)
    api.clock.advance(seconds=86_400)
    expired = await api.client.post(
        "/auth/user/email/verify",
        json={"method": "token", "token": token_from(first_url(smtp.received[0]))},
        headers=EV,
    )
    assert expired.json() == {"status": "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"}
    assert (
        await api.client.post("/auth/user/email/verify", json={"method": "link"}, headers=EV)
    ).status_code == 400


async def test_verification_off_puts_no_claim_in_tokens(database_url: str) -> None:
    async with running_api(database_url, email_verification="OFF") as api:
        response = await api.client.post(
            "/auth/signup", json=form(email="heidi@example.com", password=PASSWORD), headers=EP
        )
        assert "st-ev" not in front(response).payload
