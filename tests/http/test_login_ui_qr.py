"""``POST {api}/ui/totp/qr``: the login pages' QR code of a TOTP device being set up, drawn by
tokenward (segno, SVG), only for the signed-in user's new device; and ``GET {api}/ui/me``
refusing a session whose second factor is still due. The browser test
(tests/browser/test_login_ui_mfa.py) drives the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pyotp
import pytest

from tests.support.api import Api, running_api

EP = {"rid": "emailpassword", "st-auth-mode": "header"}
TOTP = {"rid": "totp"}
FORM = {
    "formFields": [
        {"id": "email", "value": "qr@example.com"},
        {"id": "password", "value": "correct horse battery staple 9"},
    ]
}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, totp_issuer="Acme Inc") as running:
        yield running


async def signed_in(api: Api, path: str) -> dict[str, str]:
    response = await api.client.post(f"/auth{path}", json=FORM, headers=EP)
    assert response.json()["status"] == "OK", response.text
    return {"rid": "session", "authorization": f"Bearer {response.headers['st-access-token']}"}


async def qr(api: Api, headers: dict[str, str], body: Any) -> httpx.Response:
    return await api.client.post("/auth/ui/totp/qr", json=body, headers=headers)


async def test_the_qr_code_is_drawn_for_the_users_new_device_only(api: Api) -> None:
    session = await signed_in(api, "/signup")
    assert (await qr(api, {"rid": "session"}, {"uri": "otpauth://totp/x"})).status_code == 401
    # No device being set up yet: nothing to draw, whatever the URI.
    uri = "otpauth://totp/Acme%20Inc:a?secret=JBSWY3DPEHPK3PXPJBSWY3DP&issuer=Acme%20Inc"
    assert (await qr(api, session, {"uri": uri})).status_code == 400

    created = await api.client.post("/auth/totp/device", json={}, headers=session | TOTP)
    device = created.json()
    drawn = await qr(api, session, {"uri": device["qrCodeString"]})
    assert drawn.status_code == 200
    assert drawn.headers["content-type"] == "image/svg+xml"
    assert drawn.headers["cache-control"] == "no-store"
    assert drawn.headers["content-security-policy"].startswith("default-src 'self'")
    assert drawn.text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert device["secret"] not in drawn.text  # drawn as modules, not written out

    secret = device["secret"]
    for refused in (
        {"uri": uri},  # the right issuer, but not the secret of the device being set up
        {"uri": f"otpauth://totp/Evil:a?secret={secret}&issuer=Evil"},
        {"uri": f"otpauth://hotp/Acme%20Inc:a?secret={secret}&issuer=Acme%20Inc"},
        {"uri": "otpauth://totp/Acme%20Inc:a?secret=NOT-BASE32!&issuer=Acme%20Inc"},
        {"uri": "https://example.com/?issuer=Acme%20Inc&secret=" + secret},
        {"uri": device["qrCodeString"] + "&x=" + "a" * 1024},
        {"uri": 42},
        {},
    ):
        assert (await qr(api, session, refused)).status_code == 400, refused

    # Once the device is verified there is no device being set up: no more drawing.
    code = pyotp.TOTP(secret).at(api.clock.now_ms() // 1000)
    verify = {"deviceName": device["deviceName"], "totp": code}
    verified = await api.client.post(
        "/auth/totp/device/verify", json=verify, headers=session | TOTP
    )
    assert verified.json()["status"] == "OK"
    assert (await qr(api, session, {"uri": device["qrCodeString"]})).status_code == 400


async def test_ui_me_refuses_a_session_that_owes_its_second_factor(api: Api) -> None:
    session = await signed_in(api, "/signup")
    device = (await api.client.post("/auth/totp/device", json={}, headers=session | TOTP)).json()
    code = pyotp.TOTP(device["secret"]).at(api.clock.now_ms() // 1000)
    verify = {"deviceName": device["deviceName"], "totp": code}
    await api.client.post("/auth/totp/device/verify", json=verify, headers=session | TOTP)
    assert (await api.client.get("/auth/ui/me", headers=session)).status_code == 200

    pending = await signed_in(api, "/signin")
    refused = await api.client.get("/auth/ui/me", headers=pending)
    assert refused.status_code == 403
    assert refused.json()["claimValidationErrors"][0]["id"] == "st-mfa"
