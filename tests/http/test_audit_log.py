"""LOG-01: security events reach the ``tokenward.audit`` logger as structured records (who, what,
when in UTC, from where), over real HTTP on SQLite and PostgreSQL; LOG-02: never a secret."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.api import Api, running_api
from tests.support.smtp import SmtpSink, first_url

EP = {"rid": "emailpassword", "fdi-version": "4.1", "user-agent": "audit-test/1.0"}
PASSWORD = "an audited passphrase"
NEW_PASSWORD = "a renewed audited passphrase"
AT_START = "2026-01-01T00:00:00.000+00:00"  # FakeClock's start, in UTC


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


@pytest.fixture
def events(caplog: pytest.LogCaptureFixture) -> Iterator[list[dict[str, Any]]]:
    """The audit records of the test, as their structured fields."""
    caplog.set_level(logging.INFO, logger="tokenward.audit")
    recorded: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            recorded.append({**record.__dict__["audit"], "level": record.levelname})

    handler = Collect()
    logging.getLogger("tokenward.audit").addHandler(handler)
    yield recorded
    logging.getLogger("tokenward.audit").removeHandler(handler)


def named(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == name]


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, trusted_proxies=("127.0.0.1",)) as running:
        yield running


async def test_log_01_sign_up_sign_in_refresh_and_sign_out(
    api: Api, events: list[dict[str, Any]]
) -> None:
    forwarded = EP | {"x-forwarded-for": "198.51.100.7"}  # from the trusted proxy 127.0.0.1
    up = await api.client.post(
        "/auth/signup", json=form(email="ann@example.com", password=PASSWORD), headers=forwarded
    )
    user_id = up.json()["user"]["id"]
    wrong = form(email="ann@example.com", password="not her passphrase")
    assert (await api.client.post("/auth/signin", json=wrong, headers=EP)).json()["status"] == (
        "WRONG_CREDENTIALS_ERROR"
    )
    api.clock.advance(seconds=90)
    signed_in = await api.client.post(
        "/auth/signin", json=form(email="ann@example.com", password=PASSWORD), headers=EP
    )
    refreshed = await api.client.post(
        "/auth/session/refresh",
        headers={"authorization": f"Bearer {signed_in.headers['st-refresh-token']}"},
    )
    await api.client.post(
        "/auth/signout",
        headers={"authorization": f"Bearer {refreshed.headers['st-access-token']}", "rid": "x"},
    )

    assert [e["event"] for e in events] == [
        "sign_up",
        "sign_in.failure",
        "sign_in.success",
        "session.refresh",
        "sign_out",
    ]
    [sign_up] = named(events, "sign_up")
    assert sign_up["user_id"] == user_id and sign_up["tenant_id"] == "public"
    assert sign_up["ip"] == "198.51.100.7", "the address comes through the trusted proxy"
    assert sign_up["user_agent"] == "audit-test/1.0" and sign_up["at"] == AT_START
    [failure] = named(events, "sign_in.failure")
    assert failure["email"] == "ann@example.com" and failure["ip"] == "127.0.0.1"
    assert "user_id" not in failure and failure["level"] == "INFO"
    [success] = named(events, "sign_in.success")
    assert success["user_id"] == user_id and success["at"] == "2026-01-01T00:01:30.000+00:00"
    handle = success["session_handle"]
    assert handle and handle != sign_up["session_handle"]
    for name in ("session.refresh", "sign_out"):
        [event] = named(events, name)
        assert (event["user_id"], event["session_handle"]) == (user_id, handle)
    logged = repr(events)
    assert PASSWORD not in logged and "not her passphrase" not in logged
    assert "eyJ" not in logged and "v1." not in logged


async def test_log_01_refresh_token_theft_is_a_warning(
    api: Api, events: list[dict[str, Any]]
) -> None:
    first = await api.create_session("user-7")
    child = await api.client.post(
        "/auth/session/refresh", headers={"authorization": f"Bearer {first.refresh_token}"}
    )
    await api.client.post(
        "/auth/session/refresh",
        headers={"authorization": f"Bearer {child.headers['st-refresh-token']}"},
    )
    stolen = await api.client.post(
        "/auth/session/refresh",
        headers={
            "authorization": f"Bearer {first.refresh_token}",
            "x-forwarded-for": "203.0.113.66",
            "user-agent": "thief/0.1",
        },
    )
    assert stolen.json() == {"message": "token theft detected"}
    [theft] = named(events, "session.theft_detected")
    assert theft["level"] == "WARNING"
    assert theft["user_id"] == "user-7"
    assert theft["session_handle"] == first.access.claims.session_handle
    assert (theft["ip"], theft["user_agent"]) == ("203.0.113.66", "thief/0.1")


async def test_log_01_at_warning_level_only_theft_is_recorded(
    api: Api, events: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """`--log-level warning` leaves the attack warnings on (the INFO events are not built)."""
    caplog.set_level(logging.WARNING, logger="tokenward.audit")
    first = await api.create_session("user-8")
    child = await api.client.post(
        "/auth/session/refresh", headers={"authorization": f"Bearer {first.refresh_token}"}
    )
    assert child.status_code == 200
    await api.client.post(
        "/auth/session/refresh",
        headers={"authorization": f"Bearer {child.headers['st-refresh-token']}"},
    )
    await api.client.post(
        "/auth/session/refresh", headers={"authorization": f"Bearer {first.refresh_token}"}
    )
    assert [event["event"] for event in events] == ["session.theft_detected"]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


async def test_log_01_password_reset_and_email_verification(
    database_url: str, smtp: SmtpSink, events: list[dict[str, Any]]
) -> None:
    settings = {
        "email_backend": "smtp",
        "smtp_host": smtp.host,
        "smtp_port": smtp.port,
        "smtp_security": "none",
        "smtp_timeout": 5.0,
    }
    async with running_api(database_url, **settings) as api:
        up = await api.client.post(
            "/auth/signup", json=form(email="bo@example.com", password=PASSWORD), headers=EP
        )
        user_id = up.json()["user"]["id"]
        await api.client.post(
            "/auth/user/email/verify/token",
            headers={"authorization": f"Bearer {up.headers['st-access-token']}"},
        )
        verify_token = parse_qs(urlsplit(first_url(smtp.received[0])).query)["token"][0]
        verified = await api.client.post(
            "/auth/user/email/verify", json={"method": "token", "token": verify_token}
        )
        assert verified.json() == {"status": "OK"}

        await api.client.post(
            "/auth/user/password/reset/token", json=form(email="bo@example.com"), headers=EP
        )
        reset_token = parse_qs(urlsplit(first_url(smtp.received[1])).query)["token"][0]
        body = {"method": "token", "token": reset_token, **form(password=NEW_PASSWORD)}
        done = await api.client.post("/auth/user/password/reset", json=body, headers=EP)
        assert done.json() == {"status": "OK"}
        again = await api.client.post("/auth/user/password/reset", json=body, headers=EP)
        assert again.json()["status"] == "RESET_PASSWORD_INVALID_TOKEN_ERROR"

    [requested] = named(events, "password_reset.requested")
    assert requested["email"] == "bo@example.com" and requested["user_agent"] == "audit-test/1.0"
    [completed] = named(events, "password_reset.completed")
    assert completed["user_id"] == user_id
    [failed] = named(events, "password_reset.failure")
    assert failed["reason"] == "invalid_token"
    [email] = named(events, "email.verified")
    assert (email["user_id"], email["email"]) == (user_id, "bo@example.com")
    logged = repr(events)
    assert reset_token not in logged and verify_token not in logged
    assert NEW_PASSWORD not in logged


async def test_log_01_revocations_through_the_core_api(
    database_url: str, events: list[dict[str, Any]]
) -> None:
    key = "audit-log-test-api-key-0123456789"
    async with running_api(database_url, api_keys=key) as api:
        one = await api.create_session("user-9")
        two = await api.create_session("user-9")
        handles = [s.access.claims.session_handle for s in (one, two)]
        by_handle = await api.client.post(
            "/recipe/session/remove", json={"sessionHandles": handles[:1]}, headers={"api-key": key}
        )
        by_user = await api.client.post(
            "/recipe/session/remove", json={"userId": "user-9"}, headers={"api-key": key}
        )
        none_left = await api.client.post(
            "/recipe/session/remove", json={"userId": "user-9"}, headers={"api-key": key}
        )
    assert [r.json()["sessionHandlesRevoked"] for r in (by_handle, by_user, none_left)] == [
        handles[:1],
        handles[1:],
        [],
    ]
    first, second = named(events, "session.revoked")
    assert first["session_handles"] == handles[0] and first["user_id"] is None
    assert (second["session_handles"], second["user_id"]) == (handles[1], "user-9")
