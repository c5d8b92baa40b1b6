"""Passwordless through the official supertokens-python SDK (0.31.4) with tokenward as its core:
the SDK's FDI routes over real HTTP, its SMTP service delivering to a real SMTP server, and a
custom SMS service (the SDK's default would call SuperTokens' cloud)."""

from __future__ import annotations

import json
import re
import time
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from tests.e2e.conftest import SdkStack
from tests.support.smtp import SmtpSink

PL = {"rid": "passwordless", "fdi-version": "4.1", "st-auth-mode": "header"}
EMAIL = "Pless@Example.com"
# The SDK's template puts the link in the href unescaped, and the code alone in its own <div>.
_LINK = re.compile(r'href="(http[^"]*/auth/verify\?[^"]*)"')
_CODE = re.compile(r">\s*(\d{6})\s*</div>")
_ACCESS = re.compile(r'"(?P<request>[A-Z]+ \S+) HTTP/[\d.]+" (?P<status>\d{3})')


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def wait_for_mail(smtp: SmtpSink, count: int) -> tuple[str, str]:
    """The code and the magic link of the ``count``-th passwordless email (the SDK sends it
    before it answers, but polled anyway, 10 s at most)."""
    deadline = time.monotonic() + 10
    while len(smtp.received) < count:
        assert time.monotonic() < deadline, f"{count} emails expected, {len(smtp.received)} came"
        time.sleep(0.02)
    html = smtp.received[count - 1].html()
    link, code = _LINK.search(html), _CODE.search(html)
    assert link is not None and code is not None, html
    return code.group(1), link.group(1)


def sms_lines(stack: SdkStack) -> list[dict[str, Any]]:
    if not stack.sms_log.exists():
        return []
    return [json.loads(line) for line in stack.sms_log.read_text().splitlines()]


def assert_core_log_clean(stack: SdkStack, device_ids: list[str]) -> None:
    """Every core API call the SDK made got a 200 (no missing route, no bad input, no crash),
    and the secret device ids the SDK sent in queries (GET .../signinup/codes?deviceId=, on a
    resend) are not in the core's access log, raw or URL-encoded (the session's log scan can
    miss them: they are standard base64, which URL-encoding splits at %2F and %2B)."""
    log = stack.core.output()
    calls = [m for m in _ACCESS.finditer(log) if m["request"] != "GET /hello"]
    assert calls, log
    assert [c.group(0) for c in calls if c["status"] != "200"] == [], log
    assert "Traceback" not in log, log
    for device_id in device_ids:
        assert device_id not in log
        assert quote(device_id, safe="") not in log


def create_code(client: httpx.Client, **contact: str) -> dict[str, Any]:
    created = client.post("/auth/signinup/code", json=contact, headers=PL)
    assert created.status_code == 200, created.text
    answer: dict[str, Any] = created.json()
    assert answer["status"] == "OK", created.text
    assert answer["flowType"] == "USER_INPUT_CODE_AND_MAGIC_LINK"
    return answer


def consume(client: httpx.Client, **body: str) -> httpx.Response:
    consumed = client.post("/auth/signinup/code/consume", json=body, headers=PL)
    assert consumed.status_code == 200, consumed.text
    return consumed


def test_email_code_magic_link_and_wrong_code_through_the_sdk(sdk_stack: SdkStack) -> None:
    with httpx.Client(base_url=sdk_stack.url, timeout=30) as client:
        # Sign up with the typed code from the email the SDK sent through SMTP.
        device = create_code(client, email=EMAIL)
        code, _ = wait_for_mail(sdk_stack.smtp, 1)
        [mail] = sdk_stack.smtp.received
        assert mail.rcpt_tos == (EMAIL,)  # the SDK mails the address as typed; the core folds it
        signed_up = consume(
            client,
            preAuthSessionId=device["preAuthSessionId"],
            deviceId=device["deviceId"],
            userInputCode=code,
        )
        answer = signed_up.json()
        assert answer["status"] == "OK", signed_up.text
        assert answer["createdNewRecipeUser"] is True
        user = answer["user"]
        assert user["emails"] == ["pless@example.com"]
        [method] = user["loginMethods"]
        assert method["recipeId"] == "passwordless"
        assert (method["email"], method["verified"]) == ("pless@example.com", True)
        assert method["recipeUserId"] == user["id"]
        access = signed_up.headers["st-access-token"]
        assert signed_up.headers["st-refresh-token"]

        # The SDK's session verifies on the app's protected routes (one asks the core).
        me = client.get("/api/me", headers=bearer(access))
        assert me.status_code == 200, me.text
        assert me.json()["userId"] == user["id"]
        assert me.json()["payload"]["st-ev"]["v"] is True
        assert client.get("/api/fresh", headers=bearer(access)).status_code == 200

        # The same code cannot be used twice.
        again = consume(
            client,
            preAuthSessionId=device["preAuthSessionId"],
            deviceId=device["deviceId"],
            userInputCode=code,
        )
        assert again.json() == {"status": "RESTART_FLOW_ERROR"}

        # Sign in by the magic link: linkCode after '#', preAuthSessionId in the query.
        device = create_code(client, email="pless@example.com")
        _, link = wait_for_mail(sdk_stack.smtp, 2)
        parts = urlsplit(link)
        query = parse_qs(parts.query)
        assert query["preAuthSessionId"] == [device["preAuthSessionId"]]
        assert query["tenantId"] == ["public"]
        assert parts.fragment
        signed_in = consume(
            client, preAuthSessionId=query["preAuthSessionId"][0], linkCode=parts.fragment
        )
        answer = signed_in.json()
        assert answer["status"] == "OK", signed_in.text
        assert answer["createdNewRecipeUser"] is False
        assert answer["user"]["id"] == user["id"]
        me = client.get("/api/me", headers=bearer(signed_in.headers["st-access-token"]))
        assert me.json()["userId"] == user["id"]

        # A wrong code counts against the device; a resent code then works.
        device = create_code(client, email="pless@example.com")
        first_code, _ = wait_for_mail(sdk_stack.smtp, 3)
        wrong = "000000" if first_code != "000000" else "111111"
        attempt = {"preAuthSessionId": device["preAuthSessionId"], "deviceId": device["deviceId"]}
        refused = consume(client, **attempt, userInputCode=wrong)
        assert refused.json() == {
            "status": "INCORRECT_USER_INPUT_CODE_ERROR",
            "failedCodeInputAttemptCount": 1,
            "maximumCodeInputAttempts": 5,
        }
        assert "st-access-token" not in refused.headers
        resent = client.post("/auth/signinup/code/resend", json=attempt, headers=PL)
        assert resent.json() == {"status": "OK"}, resent.text
        new_code, _ = wait_for_mail(sdk_stack.smtp, 4)
        assert sdk_stack.smtp.received[3].rcpt_tos == ("pless@example.com",)
        resumed = consume(client, **attempt, userInputCode=new_code)
        answer = resumed.json()
        assert answer["status"] == "OK", resumed.text
        assert (answer["createdNewRecipeUser"], answer["user"]["id"]) == (False, user["id"])

        # A resend for a device that is gone (consumed) restarts the flow.
        gone = client.post("/auth/signinup/code/resend", json=attempt, headers=PL)
        assert gone.json() == {"status": "RESTART_FLOW_ERROR"}
        exists = client.get(
            "/auth/passwordless/email/exists", params={"email": "pless@example.com"}, headers=PL
        )
        assert exists.json() == {"status": "OK", "exists": True}
    assert "signinup/codes?deviceId=[redacted]" in sdk_stack.core.output()  # the resend's lookup
    assert_core_log_clean(sdk_stack, [attempt["deviceId"]])


def test_phone_number_sign_up_through_the_sdk(sdk_stack: SdkStack) -> None:
    with httpx.Client(base_url=sdk_stack.url, timeout=30) as client:
        device = create_code(client, phoneNumber="+1 415 555 0100")
        [sms] = sms_lines(sdk_stack)
        assert sms["phone"] == "+14155550100"
        assert re.fullmatch(r"\d{6}", sms["code"])
        assert parse_qs(urlsplit(sms["link"]).query)["preAuthSessionId"] == [
            device["preAuthSessionId"]
        ]
        assert sdk_stack.smtp.received == []
        signed_up = consume(
            client,
            preAuthSessionId=device["preAuthSessionId"],
            deviceId=device["deviceId"],
            userInputCode=sms["code"],
        )
        answer = signed_up.json()
        assert answer["status"] == "OK", signed_up.text
        assert answer["createdNewRecipeUser"] is True
        user = answer["user"]
        assert (user["phoneNumbers"], user["emails"]) == (["+14155550100"], [])
        [method] = user["loginMethods"]
        assert (method["recipeId"], method["phoneNumber"]) == ("passwordless", "+14155550100")
        me = client.get("/api/me", headers=bearer(signed_up.headers["st-access-token"]))
        assert me.status_code == 200, me.text
        assert me.json()["userId"] == user["id"]
        exists = client.get(
            "/auth/passwordless/phonenumber/exists",
            params={"phoneNumber": "+14155550100"},
            headers=PL,
        )
        assert exists.json() == {"status": "OK", "exists": True}
    assert_core_log_clean(sdk_stack, [device["deviceId"]])
