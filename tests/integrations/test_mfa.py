"""MFA in embedding apps, on SQLite and PostgreSQL: FastAPI's ``verify_session(mfa=False)`` and
``verify_session(step_up=N)``, Starlette's ``requires_session`` likewise, and the
``mfa_requirements`` hook replacing what a sign-in requires."""

from __future__ import annotations

import base64
import json
from typing import Any

import pyotp
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.integrations.test_embedded import PASSWORD, bearer, client_for, form, make_auth
from tests.support.clock import FakeClock
from tokenward import Hooks, Session
from tokenward.hooks import MfaQuestion
from tokenward.integrations.fastapi import verify_session
from tokenward.integrations.starlette import requires_session

EP = {"rid": "emailpassword", "st-auth-mode": "header"}
TOTP = {"rid": "totp"}
EMAIL = "ann@example.com"


def mfa_of(access: str) -> dict[str, Any]:
    payload = json.loads(base64.urlsafe_b64decode(access.split(".")[1] + "=="))
    value: dict[str, Any] = payload["st-mfa"]
    return value


def now_code(clock: FakeClock, secret: str) -> str:
    return pyotp.TOTP(secret).at(clock.now_ms() // 1000)


async def sign_in(client: Any, path: str = "/auth/signin") -> str:
    response = await client.post(path, json=form(email=EMAIL, password=PASSWORD), headers=EP)
    assert response.json()["status"] == "OK", response.text
    token: str = response.headers["st-access-token"]
    return token


async def with_device(client: Any, clock: FakeClock) -> tuple[str, str]:
    """Sign up, set up and verify a TOTP device: (access token, secret)."""
    access = await sign_in(client, "/auth/signup")
    created = (
        await client.post("/auth/totp/device", json={}, headers=TOTP | bearer(access))
    ).json()
    verified = await client.post(
        "/auth/totp/device/verify",
        json={"deviceName": created["deviceName"], "totp": now_code(clock, created["secret"])},
        headers=TOTP | bearer(access),
    )
    assert verified.json()["status"] == "OK"
    return verified.headers["st-access-token"], created["secret"]


async def test_fastapi_mfa_false_and_step_up(database_url: str) -> None:
    clock = FakeClock()
    auth = make_auth(database_url, clock)
    app = FastAPI()
    auth.install(app)

    @app.get("/api/strict")
    async def strict(session: Session = Depends(verify_session())) -> dict[str, str]:
        return {"userId": session.user_id}

    @app.get("/api/half")
    async def half(session: Session = Depends(verify_session(mfa=False))) -> dict[str, Any]:
        return {"v": session.access_token_payload["st-mfa"]["v"]}

    @app.get("/api/sensitive")
    async def sensitive(session: Session = Depends(verify_session(step_up=60))) -> dict[str, str]:
        return {"ok": "yes"}

    async with client_for(app, auth) as client:
        fresh, secret = await with_device(client, clock)
        assert (await client.get("/api/sensitive", headers=bearer(fresh))).status_code == 200

        clock.advance(seconds=61)
        old = await client.get("/api/sensitive", headers=bearer(fresh))
        assert old.status_code == 403
        [error] = old.json()["claimValidationErrors"]
        assert error["id"] == "st-mfa" and error["reason"]["maxAgeInSeconds"] == 60
        assert (await client.get("/api/strict", headers=bearer(fresh))).status_code == 200

        pending = await sign_in(client)
        assert mfa_of(pending)["v"] is False
        assert (await client.get("/api/strict", headers=bearer(pending))).status_code == 403
        half_in = await client.get("/api/half", headers=bearer(pending))
        assert (half_in.status_code, half_in.json()) == (200, {"v": False})
        assert (await client.get("/api/sensitive", headers=bearer(pending))).status_code == 403

        done = await client.post(
            "/auth/totp/verify",
            json={"totp": now_code(clock, secret)},
            headers=TOTP | bearer(pending),
        )
        assert done.json() == {"status": "OK"}
        stepped = done.headers["st-access-token"]
        assert (await client.get("/api/strict", headers=bearer(stepped))).status_code == 200
        assert (await client.get("/api/sensitive", headers=bearer(stepped))).status_code == 200


async def test_starlette_mfa_false_and_step_up(database_url: str) -> None:
    clock = FakeClock()
    auth = make_auth(database_url, clock)

    @requires_session(mfa=False)
    async def half(request: Request, session: Session) -> Response:
        return JSONResponse({"userId": session.user_id})

    @requires_session(step_up=60)
    async def sensitive(request: Request, session: Session) -> Response:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/api/half", half), Route("/api/sensitive", sensitive)])
    auth.install(app)
    async with client_for(app, auth) as client:
        fresh, _ = await with_device(client, clock)
        assert (await client.get("/api/sensitive", headers=bearer(fresh))).status_code == 200
        clock.advance(seconds=61)
        assert (await client.get("/api/sensitive", headers=bearer(fresh))).status_code == 403
        pending = await sign_in(client)
        assert (await client.get("/api/half", headers=bearer(pending))).status_code == 200


async def test_the_mfa_requirements_hook_replaces_the_requirements(database_url: str) -> None:
    clock = FakeClock()
    asked: list[MfaQuestion] = []

    async def only_admins_need_totp(question: MfaQuestion) -> list[Any] | None:
        asked.append(question)
        if any((m.email or "").startswith("admin") for m in question.user.login_methods):
            return ["totp"]
        return []  # everyone else: no second factor, even with a device

    auth = make_auth(database_url, clock, hooks=Hooks(mfa_requirements=[only_admins_need_totp]))
    app = FastAPI()
    auth.install(app)

    @app.get("/api/strict")
    async def strict(session: Session = Depends(verify_session())) -> dict[str, str]:
        return {"userId": session.user_id}

    async with client_for(app, auth) as client:
        await with_device(client, clock)
        clock.advance(seconds=60)
        ann = await sign_in(client)
        assert mfa_of(ann)["v"] is True, "the hook dropped the enrolled device's requirement"
        assert (await client.get("/api/strict", headers=bearer(ann))).status_code == 200
        assert asked and asked[-1].factors_set_up == ("emailpassword", "totp")
        assert asked[-1].default == ({"oneOf": ["totp"]},)

        admin = await client.post(
            "/auth/signup",
            json=form(email="admin@example.com", password=PASSWORD),
            headers=EP,
        )
        token = admin.headers["st-access-token"]
        assert mfa_of(token)["v"] is False, "required by the hook without a device"
        assert (await client.get("/api/strict", headers=bearer(token))).status_code == 403
        info = await client.put(
            "/auth/mfa/info", json={}, headers={"rid": "multifactorauth"} | bearer(token)
        )
        assert info.json()["factors"]["next"] == ["totp"]
