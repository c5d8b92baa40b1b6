"""Passwordless over HTTP (FDI), on SQLite and PostgreSQL: codes by email through a real SMTP
server, by SMS through a real signed webhook, and every status of the protocol."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.api import Api, front, running_api, set_cookies
from tests.support.sms import WebhookReceiver
from tests.support.smtp import SmtpSink, first_url, smtp_settings
from tokenward.app.maintenance import cleanup

PL = {"rid": "passwordless", "fdi-version": "4.2"}
SECRET = b"a webhook secret of at least 32 bytes!!"
CODE = re.compile(r"\b(\d{6})\b")


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def sms() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as receiver:
        yield receiver


@pytest.fixture
async def api(database_url: str, smtp: SmtpSink, sms: WebhookReceiver) -> AsyncIterator[Api]:
    settings = {
        **smtp_settings(smtp),
        "sms_backend": "webhook",
        "sms_webhook_url": sms.url,
        "sms_webhook_secret": SECRET.decode(),
        "website_domain": "http://localhost:3000",
    }
    async with running_api(database_url, **settings) as running:
        yield running


async def post(api: Api, path: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return await api.client.post(f"/auth/signinup/code{path}", json=body, headers=PL | headers)


async def create(api: Api, **contact: str) -> dict[str, Any]:
    response = await post(api, "", contact)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "OK", body
    return body


def mailed(smtp: SmtpSink, index: int = -1) -> tuple[str, str]:
    """The code and the magic link of a received sign-in email."""
    mail = smtp.received[index]
    match = CODE.search(mail.text())
    assert match is not None, mail.text()
    return match.group(1), first_url(mail)


def link_parts(link: str) -> tuple[str, str]:
    parts = urlsplit(link)
    return parse_qs(parts.query)["preAuthSessionId"][0], parts.fragment


async def test_email_code_signs_up_with_a_session_and_a_verified_email(
    api: Api, smtp: SmtpSink
) -> None:
    started = await create(api, email=" Alice@Example.com ")
    assert started["flowType"] == "USER_INPUT_CODE_AND_MAGIC_LINK"
    assert set(started) == {"status", "deviceId", "preAuthSessionId", "flowType"}
    [mail] = smtp.received
    assert mail.rcpt_tos == ("alice@example.com",)
    code, link = mailed(smtp)
    assert code in mail.html() and "expires in 15 minutes" in mail.text()
    pre_auth, link_code = link_parts(link)
    assert link.startswith("http://localhost:3000/auth/verify?")
    assert pre_auth == started["preAuthSessionId"] and link_code not in mail.text().split("#")[0]

    consumed = await post(
        api,
        "/consume",
        {"preAuthSessionId": pre_auth, "deviceId": started["deviceId"], "userInputCode": code},
        **{"st-auth-mode": "cookie"},
    )
    body = consumed.json()
    assert body["status"] == "OK" and body["createdNewRecipeUser"] is True
    user = body["user"]
    assert user["emails"] == ["alice@example.com"]
    [method] = user["loginMethods"]
    assert method["recipeId"] == "passwordless" and method["verified"] is True
    assert set_cookies(consumed)["sAccessToken"].value
    assert front(consumed).user_id == user["id"]
    assert front(consumed).payload["st-ev"]["v"] is True


async def test_the_link_signs_in_the_same_user_and_works_once(api: Api, smtp: SmtpSink) -> None:
    first = await create(api, email="bob@example.com")
    code, _ = mailed(smtp)
    signed_up = await post(
        api,
        "/consume",
        {"preAuthSessionId": first["preAuthSessionId"], "deviceId": first["deviceId"],
         "userInputCode": code},
    )  # fmt: skip
    user_id = signed_up.json()["user"]["id"]

    await create(api, email="bob@example.com")
    pre_auth, link_code = link_parts(mailed(smtp)[1])
    answer = await post(api, "/consume", {"preAuthSessionId": pre_auth, "linkCode": link_code})
    body = answer.json()
    assert body["status"] == "OK" and body["createdNewRecipeUser"] is False
    assert body["user"]["id"] == user_id
    assert answer.headers["st-access-token"], "header mode by default"
    again = await post(api, "/consume", {"preAuthSessionId": pre_auth, "linkCode": link_code})
    assert again.json() == {"status": "RESTART_FLOW_ERROR"}


async def test_wrong_codes_count_and_the_fifth_restarts(api: Api, smtp: SmtpSink) -> None:
    started = await create(api, email="carol@example.com")
    code, _ = mailed(smtp)
    wrong = "000000" if code != "000000" else "111111"
    attempt = {"preAuthSessionId": started["preAuthSessionId"], "deviceId": started["deviceId"]}
    answers = [
        (await post(api, "/consume", attempt | {"userInputCode": wrong})).json() for _ in range(5)
    ]
    assert answers[:4] == [
        {
            "status": "INCORRECT_USER_INPUT_CODE_ERROR",
            "failedCodeInputAttemptCount": n,
            "maximumCodeInputAttempts": 5,
        }
        for n in range(1, 5)
    ]
    assert answers[4] == {"status": "RESTART_FLOW_ERROR"}
    late = await post(api, "/consume", attempt | {"userInputCode": code})
    assert late.json() == {"status": "RESTART_FLOW_ERROR"}


async def test_an_expired_code_says_so_and_a_resent_one_works(api: Api, smtp: SmtpSink) -> None:
    started = await create(api, email="dan@example.com")
    code, _ = mailed(smtp)
    attempt = {"preAuthSessionId": started["preAuthSessionId"], "deviceId": started["deviceId"]}
    api.clock.advance(seconds=900)
    expired = await post(api, "/consume", attempt | {"userInputCode": code})
    assert expired.json() == {
        "status": "EXPIRED_USER_INPUT_CODE_ERROR",
        "failedCodeInputAttemptCount": 1,
        "maximumCodeInputAttempts": 5,
    }
    resent = await post(api, "/resend", attempt)
    assert resent.json() == {"status": "OK"}
    assert len(smtp.received) == 2
    new_code, _ = mailed(smtp)
    done = await post(api, "/consume", attempt | {"userInputCode": new_code})
    assert done.json()["status"] == "OK"
    gone = await post(api, "/resend", attempt)
    assert gone.json() == {"status": "RESTART_FLOW_ERROR"}


async def test_the_cleanup_removes_expired_codes(api: Api, smtp: SmtpSink) -> None:
    started = await create(api, email="erin@example.com")
    api.clock.advance(seconds=901)
    report = await cleanup(api.runtime.stores, api.runtime.services.keys, api.clock)
    assert report.passwordless_codes == 1
    device = await api.runtime.stores.passwordless.device("public", started["preAuthSessionId"])
    assert device is None


async def test_phone_codes_go_by_signed_webhook(api: Api, sms: WebhookReceiver) -> None:
    started = await create(api, phoneNumber="+1 (415) 555-0100")
    [delivered] = sms.delivered
    assert delivered.to == "+14155550100"
    match = CODE.search(delivered.body)
    assert match is not None and "sign-in code" in delivered.body
    done = await post(
        api,
        "/consume",
        {"preAuthSessionId": started["preAuthSessionId"], "deviceId": started["deviceId"],
         "userInputCode": match.group(1)},
    )  # fmt: skip
    user = done.json()["user"]
    assert user["phoneNumbers"] == ["+14155550100"] and user["emails"] == []
    exists = await api.client.get(
        "/auth/passwordless/phonenumber/exists",
        params={"phoneNumber": "+14155550100"},
        headers=PL,
    )
    assert exists.json() == {"status": "OK", "exists": True}


async def test_a_failing_sender_is_a_retryable_error_that_leaves_nothing(
    api: Api, sms: WebhookReceiver
) -> None:
    sms.script(500, 500, 500, 500)
    answer = await post(api, "", {"phoneNumber": "+14155550101"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "GENERAL_ERROR" and "try again" in body["message"]
    devices = await api.runtime.services.passwordless.devices_of(
        "public", api.runtime.services.passwordless.contact(None, "+14155550101")
    )
    assert devices == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Please provide exactly one of email or phoneNumber"),
        ({"email": "a@example.com", "phoneNumber": "+14155550100"}, "exactly one"),
        ({"email": 42}, "email must be a string"),
    ],
)
async def test_malformed_create_bodies_are_400(
    api: Api, body: dict[str, Any], message: str
) -> None:
    answer = await post(api, "", body)
    assert answer.status_code == 400 and message in answer.json()["message"]


@pytest.mark.parametrize(
    ("contact", "message"),
    [
        ({"email": "not an email"}, "Email is not valid"),
        ({"phoneNumber": "12345"}, "Phone number is invalid"),
    ],
)
async def test_a_bad_email_or_number_is_a_general_error(
    api: Api, contact: dict[str, str], message: str
) -> None:
    answer = await post(api, "", contact)
    assert answer.json() == {"status": "GENERAL_ERROR", "message": message}


@pytest.mark.parametrize(
    "body",
    [
        {"linkCode": "x"},
        {"preAuthSessionId": "p"},
        {"preAuthSessionId": "p", "linkCode": "x", "userInputCode": "1"},
        {"preAuthSessionId": "p", "deviceId": "d"},
    ],
)
async def test_malformed_consume_bodies_are_400(api: Api, body: dict[str, Any]) -> None:
    assert (await post(api, "/consume", body)).status_code == 400


async def test_forged_or_mismatched_devices_restart(api: Api, smtp: SmtpSink) -> None:
    started = await create(api, email="frank@example.com")
    other = await create(api, email="grace@example.com")
    code, _ = mailed(smtp, 0)
    mismatched = {
        "preAuthSessionId": other["preAuthSessionId"],
        "deviceId": started["deviceId"],
        "userInputCode": code,
    }
    assert (await post(api, "/consume", mismatched)).json() == {"status": "RESTART_FLOW_ERROR"}
    forged = {"preAuthSessionId": started["preAuthSessionId"], "linkCode": "A" * 43}
    assert (await post(api, "/consume", forged)).json() == {"status": "RESTART_FLOW_ERROR"}
    resend = {"preAuthSessionId": other["preAuthSessionId"], "deviceId": started["deviceId"]}
    assert (await post(api, "/resend", resend)).json() == {"status": "RESTART_FLOW_ERROR"}


async def test_exists_checks_never_tell_more_than_exists(api: Api, smtp: SmtpSink) -> None:
    async def exists(email: str) -> Any:
        answer = await api.client.get(
            "/auth/passwordless/email/exists", params={"email": email}, headers=PL
        )
        return answer.json()

    assert await exists("henry@example.com") == {"status": "OK", "exists": False}
    started = await create(api, email="henry@example.com")
    assert await exists("henry@example.com") == {"status": "OK", "exists": False}, "not yet"
    code, _ = mailed(smtp)
    await post(
        api,
        "/consume",
        {"preAuthSessionId": started["preAuthSessionId"], "deviceId": started["deviceId"],
         "userInputCode": code},
    )  # fmt: skip
    assert await exists("HENRY@example.com ") == {"status": "OK", "exists": True}
    missing = await api.client.get("/auth/passwordless/email/exists", headers=PL)
    assert missing.status_code == 400


async def test_parallel_consumes_of_one_code_make_one_session(api: Api, smtp: SmtpSink) -> None:
    started = await create(api, email="ivy@example.com")
    code, link = mailed(smtp)
    pre_auth, link_code = link_parts(link)
    bodies = [
        {"preAuthSessionId": pre_auth, "linkCode": link_code}
        if i % 2
        else {"preAuthSessionId": pre_auth, "deviceId": started["deviceId"], "userInputCode": code}
        for i in range(10)
    ]
    answers = await asyncio.gather(*(post(api, "/consume", b) for b in bodies))
    assert all(a.status_code == 200 for a in answers)
    statuses = sorted(a.json()["status"] for a in answers)
    assert statuses == ["OK"] + ["RESTART_FLOW_ERROR"] * 9
    [user_id] = {a.json()["user"]["id"] for a in answers if a.json()["status"] == "OK"}
    sessions = await api.runtime.services.sessions.handles_for_user(user_id)
    assert len(sessions) == 1


async def test_the_tenant_segment_scopes_devices(api: Api, smtp: SmtpSink) -> None:
    started = await create(api, email="jack@example.com")
    code, _ = mailed(smtp)
    answer = await api.client.post(
        "/auth/public/signinup/code/consume",
        json={"preAuthSessionId": started["preAuthSessionId"], "deviceId": started["deviceId"],
              "userInputCode": code},
        headers=PL,
    )  # fmt: skip
    assert answer.json()["status"] == "OK"
    unknown = await api.client.post(
        "/auth/nope/signinup/code", json={"email": "jack@example.com"}, headers=PL
    )
    assert unknown.status_code == 400


async def test_codes_per_contact_are_rate_limited_whatever_the_spelling(
    api: Api, smtp: SmtpSink
) -> None:
    spellings = ["kim@example.com", "KIM@example.com", " kim@example.com"]
    answers = [await post(api, "", {"email": spellings[i % 3]}) for i in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[5].headers["retry-after"]
    assert len(smtp.received) == 5
    other = await post(api, "", {"email": "lee@example.com"})
    assert other.status_code == 200, "another address has its own budget"


async def test_a_code_to_the_users_verified_email_completes_a_required_second_factor(
    database_url: str, smtp: SmtpSink
) -> None:
    """otp-email required of every user: the code goes to the user's own verified email (the
    factor the user has set up) and completes MFA in the same session."""
    settings = {
        **smtp_settings(smtp),
        "website_domain": "http://localhost:3000",
        "mfa_required_secondary_factors": "otp-email",
    }
    async with running_api(database_url, **settings) as api:
        email = "second@example.com"
        form = [{"id": "email", "value": email}, {"id": "password", "value": "a long pass 42!"}]
        signed_up = await api.client.post(
            "/auth/signup",
            json={"formFields": form},
            headers={"rid": "emailpassword", "st-auth-mode": "header"},
        )
        assert signed_up.json()["status"] == "OK", signed_up.text
        user_id = signed_up.json()["user"]["id"]
        verification = api.runtime.services.email_verification
        token = await verification.create_token(user_id, email, "public")
        assert token is not None
        await verification.verify("public", token)
        access = signed_up.headers["st-access-token"]
        bearer = {"authorization": f"Bearer {access}"}
        assert (await api.client.get("/test/session", headers=bearer)).status_code == 403

        linking = {"shouldTryLinkingWithSessionUser": True}
        started = await post(api, "", {"email": email} | linking, **bearer)
        assert started.status_code == 200, started.text
        assert started.json()["status"] == "OK", started.text
        # A code as a second factor comes without a magic link.
        match = CODE.search(smtp.received[-1].text())
        assert match is not None
        code = match.group(1)
        attempt = {k: started.json()[k] for k in ("preAuthSessionId", "deviceId")}
        done = await post(api, "/consume", attempt | {"userInputCode": code} | linking, **bearer)
        assert done.status_code == 200 and done.json()["status"] == "OK", done.text
        assert done.json()["user"]["id"] == user_id
        assert "st-refresh-token" not in done.headers  # the same session, not a new one
        renewed = {"authorization": f"Bearer {done.headers['st-access-token']}"}
        protected = await api.client.get("/test/session", headers=renewed)
        assert protected.status_code == 200, protected.text
        assert protected.json()["userId"] == user_id
