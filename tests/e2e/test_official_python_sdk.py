"""tokenward as the core of an app built with the official supertokens-python SDK (0.31.4):
the SDK's own FDI routes and session verification, over real HTTP, backed by our core API."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.conftest import SdkStack

PASSWORD = "sdkpassword123"  # the SDK's own policy wants a letter and a digit


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def sdk_app(sdk_stack: SdkStack) -> tuple[str, Path]:
    return sdk_stack.url, sdk_stack.mail_log


def last_link(mail_log: Path) -> str:
    return str(json.loads(mail_log.read_text().splitlines()[-1])["link"])


def expired_once_the_clock_passes(client: httpx.Client, access: str) -> httpx.Response:
    """Poll ``/api/me`` (10 s at most) until the SDK stops accepting ``access``, which it
    must do once the real clock passes the token's expiry; until then only 200 is expected."""
    deadline = time.monotonic() + 10
    while (answer := client.get("/api/me", headers=bearer(access))).status_code == 200:
        assert time.monotonic() < deadline, "the access token is still accepted after 10 s"
        time.sleep(0.05)
    return answer


def test_email_password_sessions_and_verification_through_the_sdk(
    sdk_app: tuple[str, Path],
) -> None:
    url, mail_log = sdk_app
    with httpx.Client(base_url=url, timeout=30) as client:
        ep = {"rid": "emailpassword", "fdi-version": "4.1", "st-auth-mode": "header"}
        signed_up = client.post(
            "/auth/signup", json=form(email="Sdk@Example.com", password=PASSWORD), headers=ep
        )
        assert signed_up.json()["status"] == "OK", signed_up.text
        user = signed_up.json()["user"]
        assert user["emails"] == ["sdk@example.com"]
        access, refresh = (
            signed_up.headers["st-access-token"],
            signed_up.headers["st-refresh-token"],
        )

        taken = client.post(
            "/auth/signup", json=form(email="sdk@example.com", password=PASSWORD), headers=ep
        )
        assert taken.json()["status"] == "FIELD_ERROR"
        wrong = client.post(
            "/auth/signin", json=form(email="sdk@example.com", password="wrong123abc"), headers=ep
        )
        assert wrong.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
        exists = client.get(
            "/auth/emailpassword/email/exists", params={"email": "sdk@example.com"}, headers=ep
        )
        assert exists.json() == {"status": "OK", "exists": True}

        me = client.get("/api/me", headers=bearer(access))
        assert me.status_code == 200, me.text
        assert me.json()["userId"] == user["id"]
        assert me.json()["payload"]["st-ev"]["v"] is False

        # Email verification: the SDK asks our core for the token and, later, to consume it.
        ev = {"rid": "emailverification", "fdi-version": "4.1"}
        sent = client.post("/auth/user/email/verify/token", headers=bearer(access) | ev)
        assert sent.json()["status"] == "OK", sent.text
        token = parse_qs(urlsplit(last_link(mail_log)).query)["token"][0]
        verified = client.post(
            "/auth/user/email/verify", json={"method": "token", "token": token}, headers=ev
        )
        assert verified.json()["status"] == "OK", verified.text
        status = client.get("/auth/user/email/verify", headers=bearer(access) | ev)
        assert status.json()["isVerified"] is True
        access = status.headers.get("st-access-token") or access

        # Expiry: the SDK answers "try refresh token" once our access token has run out
        # (the core issues 3-second tokens here, so this is a short real wait, polled).
        expired = expired_once_the_clock_passes(client, access)
        assert (expired.status_code, expired.json()) == (401, {"message": "try refresh token"})

        # Refresh, then the first use of the new access token is promoted by our core.
        renewed = client.post("/auth/session/refresh", headers=bearer(refresh) | {"rid": "session"})
        assert renewed.status_code == 200, renewed.text
        new_access = renewed.headers["st-access-token"]
        first_use = client.get("/api/me", headers=bearer(new_access))
        assert first_use.status_code == 200, first_use.text
        assert first_use.headers.get("st-access-token"), "the SDK set the promoted token"
        promoted = first_use.headers["st-access-token"]
        assert client.get("/api/fresh", headers=bearer(promoted)).status_code == 200

        # The old refresh token is now an ancestor: theft, handled by the SDK.
        stolen = client.post("/auth/session/refresh", headers=bearer(refresh) | {"rid": "session"})
        assert (stolen.status_code, stolen.json()) == (401, {"message": "token theft detected"})
        assert client.get("/api/fresh", headers=bearer(promoted)).status_code == 401

        # Sign in again, then sign out.
        signed_in = client.post(
            "/auth/signin", json=form(email="sdk@example.com", password=PASSWORD), headers=ep
        )
        assert signed_in.json()["status"] == "OK"
        again = signed_in.headers["st-access-token"]
        out = client.post("/auth/signout", headers=bearer(again) | {"rid": "session"})
        assert out.json() == {"status": "OK"}
        assert client.get("/api/fresh", headers=bearer(again)).status_code == 401


def test_password_reset_through_the_sdk(sdk_app: tuple[str, Path]) -> None:
    url, mail_log = sdk_app
    with httpx.Client(base_url=url, timeout=30) as client:
        ep = {"rid": "emailpassword", "fdi-version": "4.1"}
        assert (
            client.post(
                "/auth/signup", json=form(email="reset@example.com", password=PASSWORD), headers=ep
            ).json()["status"]
            == "OK"
        )
        asked = client.post(
            "/auth/user/password/reset/token", json=form(email="reset@example.com"), headers=ep
        )
        assert asked.json()["status"] == "OK", asked.text
        token = parse_qs(urlsplit(last_link(mail_log)).query)["token"][0]
        reset = client.post(
            "/auth/user/password/reset",
            json={"method": "token", "token": token, **form(password="newpassword456")},
            headers=ep,
        )
        assert reset.json()["status"] == "OK", reset.text
        old = client.post(
            "/auth/signin", json=form(email="reset@example.com", password=PASSWORD), headers=ep
        )
        assert old.json()["status"] == "WRONG_CREDENTIALS_ERROR"
        new = client.post(
            "/auth/signin",
            json=form(email="reset@example.com", password="newpassword456"),
            headers=ep,
        )
        assert new.json()["status"] == "OK"
        reused = client.post(
            "/auth/user/password/reset",
            json={"method": "token", "token": token, **form(password="another789xyz")},
            headers=ep,
        )
        assert reused.json()["status"] == "RESET_PASSWORD_INVALID_TOKEN_ERROR"


def test_roles_metadata_and_users_through_the_sdk(sdk_app: tuple[str, Path]) -> None:
    url, _ = sdk_app
    with httpx.Client(base_url=url, timeout=30) as client:
        ep = {"rid": "emailpassword", "st-auth-mode": "header"}
        ids = []
        for email in ("admin@example.com", "plain@example.com"):
            created = client.post(
                "/auth/signup", json=form(email=email, password=PASSWORD), headers=ep
            )
            ids.append(created.json()["user"]["id"])
        admin_id, plain_id = ids
        granted = client.post(f"/api/grant-admin/{admin_id}")
        assert granted.json() == {"created": True, "added": "AddRoleToUserOkResult"}

        # Roles travel in the token the SDK mints at sign-in (st-role / st-perm from our core).
        admin = client.post(
            "/auth/signin", json=form(email="admin@example.com", password=PASSWORD), headers=ep
        )
        token = admin.headers["st-access-token"]
        payload = client.get("/api/me", headers=bearer(token)).json()["payload"]
        assert payload["st-role"]["v"] == ["admin"]
        assert sorted(payload["st-perm"]["v"]) == ["users:read", "users:write"]  # SDK-built list
        assert client.get("/api/admin", headers=bearer(token)).status_code == 200
        plain = client.post(
            "/auth/signin", json=form(email="plain@example.com", password=PASSWORD), headers=ep
        )
        denied = client.get("/api/admin", headers=bearer(plain.headers["st-access-token"]))
        assert denied.status_code == 403
        assert denied.json()["claimValidationErrors"][0]["id"] == "st-role"

        # Metadata: merged at the top level, null removes a key.
        assert client.post(
            "/api/metadata", json={"theme": "dark", "lang": "en"}, headers=bearer(token)
        ).json() == {"theme": "dark", "lang": "en"}
        assert client.post(
            "/api/metadata", json={"lang": None, "nested": {"a": 1}}, headers=bearer(token)
        ).json() == {"theme": "dark", "nested": {"a": 1}}
        assert client.get("/api/metadata", headers=bearer(token)).json() == {
            "theme": "dark",
            "nested": {"a": 1},
        }

        # Listing and deletion.
        listed = client.get("/api/users").json()
        assert listed == {"ids": [plain_id, admin_id], "count": 2}
        assert client.delete(f"/api/users/{plain_id}").json() == {"deleted": plain_id}
        assert client.get("/api/users").json() == {"ids": [admin_id], "count": 1}
        gone = client.post(
            "/auth/signin", json=form(email="plain@example.com", password=PASSWORD), headers=ep
        )
        assert gone.json()["status"] == "WRONG_CREDENTIALS_ERROR"
