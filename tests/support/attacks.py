"""Requests and checks shared by the advisories tests (tests/test_advisories*.py)."""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from tests.support.api import Api

REFRESH = "/auth/session/refresh"
PROTECTED = "/test/session"
EP = {"rid": "emailpassword", "fdi-version": "4.1"}
PASSWORD = "a long enough passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def cookie(**cookies: str) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


async def call(api: Api, token: str, *, check_database: bool = False) -> httpx.Response:
    params = {"check_database": "1"} if check_database else {}
    return await api.client.get(PROTECTED, headers=bearer(token), params=params)


async def refresh(api: Api, token: str) -> httpx.Response:
    return await api.client.post(REFRESH, headers=bearer(token))


def assert_refused(response: httpx.Response) -> None:
    """401 with one of the protocol's two bodies: never a 500, never internals."""
    assert response.status_code == 401, (response.status_code, response.text[:200])
    assert response.json()["message"] in ("unauthorised", "try refresh token")


def cookie_expiry_ms(morsel: Any) -> int:
    return int(parsedate_to_datetime(morsel["expires"]).timestamp() * 1000)


async def sign_up(api: Api, email: str, **headers: str) -> httpx.Response:
    response = await api.client.post(
        "/auth/signup", json=form(email=email, password=PASSWORD), headers=EP | headers
    )
    assert response.json()["status"] == "OK"
    return response


async def sign_in(api: Api, email: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    return await api.client.post(
        "/auth/signin", json=form(email=email, password=password), headers=EP | headers
    )
