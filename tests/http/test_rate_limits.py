"""Rate limits and the sign-in backoff over real HTTP, on SQLite and PostgreSQL (RL-01..RL-05,
AUTH-01/03 for throttled answers). Different client addresses are different ASGI peers; time
moves with the app's FakeClock."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from tests.support.api import API, Api, running_api
from tests.support.outage import database_unreachable, join_sqlite_workers
from tests.support.smtp import SmtpSink, first_url, smtp_settings

EP = {"rid": "emailpassword", "fdi-version": "4.1"}
PASSWORD = "the right passphrase"
WRONG = "a wrong passphrase"
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"


def form(**fields: str) -> dict[str, Any]:
    return {"formFields": [{"id": k, "value": v} for k, v in fields.items()]}


@asynccontextmanager
async def client_at(api: Api, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach the app from ``ip`` (the ASGI peer address)."""
    transport = httpx.ASGITransport(app=api.app, client=(ip, 40000))
    async with httpx.AsyncClient(transport=transport, base_url=API) as client:
        yield client


async def sign_up(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> None:
    response = await client.post("/auth/signup", json=form(email=email, password=password))
    assert response.json()["status"] == "OK", response.text


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str, **headers: str
) -> httpx.Response:
    return await client.post(
        "/auth/signin", json=form(email=email, password=password), headers=EP | headers
    )


def throttled(response: httpx.Response) -> int:
    """Assert a 429 with Retry-After and a JSON message; return the seconds to wait."""
    assert response.status_code == 429, response.text
    assert response.json() == {"message": "Too many requests. Please try again later."}
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    return retry_after


def comparable(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
    return response.status_code, response.content, headers


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as running:
        yield running


async def test_rl_01_hundred_wrong_passwords_then_the_right_one_is_refused(api: Api) -> None:
    await sign_up(api.client, "alice@example.com")
    waits: list[int] = []
    failures = 0
    while failures < 100:
        response = await sign_in(api.client, "alice@example.com", WRONG)
        if response.status_code == 429:
            waits.append(throttled(response))
            api.clock.advance(seconds=waits[-1])  # a patient attacker waits out every delay
            continue
        assert response.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
        failures += 1
    assert waits[:3] == [1, 2, 4], "the delay starts after five failures and doubles"
    assert waits == sorted(waits) and 900 in waits, "it grows to the 15-minute cap"
    locked = await sign_in(api.client, "alice@example.com", PASSWORD)
    assert throttled(locked) == 86_400, "after 100 consecutive failures: a day, right or wrong"

    api.clock.advance(hours=24)
    assert (await sign_in(api.client, "alice@example.com", PASSWORD)).json()["status"] == "OK"
    # The success reset the count: five fresh failures pass before the first delay.
    statuses = [
        (await sign_in(api.client, "alice@example.com", WRONG)).status_code for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]


async def test_rl_01_success_resets_the_count(api: Api) -> None:
    await sign_up(api.client, "bob@example.com")
    for _ in range(4):
        response = await sign_in(api.client, "bob@example.com", WRONG)
        assert response.json()["status"] == "WRONG_CREDENTIALS_ERROR"
    assert (await sign_in(api.client, "bob@example.com", PASSWORD)).json()["status"] == "OK"
    for _ in range(5):
        response = await sign_in(api.client, "bob@example.com", WRONG)
        assert response.json()["status"] == "WRONG_CREDENTIALS_ERROR"
    throttled(await sign_in(api.client, "bob@example.com", PASSWORD))


async def test_rl_02_attacker_throttles_only_themselves_and_reset_works_elsewhere(
    database_url: str,
) -> None:
    with SmtpSink() as smtp:
        async with (
            running_api(database_url, **smtp_settings(smtp)) as api,
            client_at(api, ATTACKER) as attacker,
            client_at(api, VICTIM) as victim,
        ):
            await sign_up(victim, "carol@example.com")
            responses = [await sign_in(attacker, "carol@example.com", WRONG) for _ in range(30)]
            assert [r.status_code for r in responses] == [200] * 5 + [429] * 25
            # The owner, elsewhere, still signs in and can reset the password.
            assert (await sign_in(victim, "carol@example.com", PASSWORD)).json()["status"] == "OK"
            asked = await victim.post(
                "/auth/user/password/reset/token", json=form(email="carol@example.com"), headers=EP
            )
            assert asked.json() == {"status": "OK"}
            [mail] = smtp.received
            token = parse_qs(urlsplit(first_url(mail)).query)["token"][0]
            done = await victim.post(
                "/auth/user/password/reset",
                json={"method": "token", "token": token, **form(password="a brand new passphrase")},
                headers=EP,
            )
            assert done.json() == {"status": "OK"}
            new = await sign_in(victim, "carol@example.com", "a brand new passphrase")
            assert new.json()["status"] == "OK"
            throttled(await sign_in(attacker, "carol@example.com", "a brand new passphrase"))


async def test_rl_02_a_password_reset_lifts_the_delay_of_a_distributed_attack(
    database_url: str,
) -> None:
    with SmtpSink() as smtp:
        async with running_api(database_url, **smtp_settings(smtp)) as api:
            await sign_up(api.client, "liz@example.com")
            statuses = []
            for n in range(6):  # 5 guesses from each of 6 addresses: 20 pass, then the delay
                async with client_at(api, f"203.0.113.{n + 1}") as attacker:
                    for _ in range(5):
                        statuses.append(
                            (await sign_in(attacker, "liz@example.com", WRONG)).status_code
                        )
            assert statuses == [200] * 20 + [429] * 10
            async with client_at(api, VICTIM) as victim:
                throttled(await sign_in(victim, "liz@example.com", PASSWORD))
                await victim.post(
                    "/auth/user/password/reset/token",
                    json=form(email="liz@example.com"),
                    headers=EP,
                )
                token = parse_qs(urlsplit(first_url(smtp.received[0])).query)["token"][0]
                done = await victim.post(
                    "/auth/user/password/reset",
                    json={
                        "method": "token",
                        "token": token,
                        **form(password="liz's new passphrase"),
                    },
                    headers=EP,
                )
                assert done.json() == {"status": "OK"}
                ok = await sign_in(victim, "liz@example.com", "liz's new passphrase")
                assert ok.json()["status"] == "OK"
            async with client_at(api, "203.0.113.1") as attacker:
                throttled(await sign_in(attacker, "liz@example.com", WRONG))


async def test_rl_03_rotating_forwarded_for_from_an_untrusted_socket_is_still_throttled(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tokenward.audit")
    async with running_api(database_url, trusted_proxies="10.0.0.0/8") as api:
        await sign_up(api.client, "dave@example.com")

        def spoofed() -> str:
            return ".".join(str(secrets.randbelow(256)) for _ in range(4))

        statuses = [
            (
                await sign_in(
                    api.client, "dave@example.com", WRONG, **{"x-forwarded-for": spoofed()}
                )
            ).status_code
            for _ in range(8)
        ]
        assert statuses == [200] * 5 + [429] * 3
        records = [getattr(r, "audit", {}) for r in caplog.records]
        denials = [a for a in records if a.get("event") == "rate_limited"]
        assert [(d["scope"], d["ip"]) for d in denials] == [("sign_in.account_ip", "127.0.0.1")] * 3

        # Behind a trusted proxy, the client's own additions to the header change nothing either:
        # the proxy appends the address it saw, and that is the one counted.
        async with client_at(api, "10.0.0.2") as proxy:
            statuses = [
                (
                    await sign_in(
                        proxy,
                        "dave@example.com",
                        WRONG,
                        **{"x-forwarded-for": f"{spoofed()}, 192.0.2.44"},
                    )
                ).status_code
                for _ in range(8)
            ]
        assert statuses == [200] * 5 + [429] * 3


async def test_rl_04_credential_stuffing_from_one_address_is_throttled(api: Api) -> None:
    await sign_up(api.client, "erin@example.com")
    async with client_at(api, ATTACKER) as attacker:
        for n in range(100):
            response = await sign_in(attacker, f"victim{n}@example.com", WRONG)
            assert response.json() == {"status": "WRONG_CREDENTIALS_ERROR"}
        throttled(await sign_in(attacker, "victim100@example.com", WRONG))
        throttled(await sign_in(attacker, "erin@example.com", PASSWORD))
    # Other addresses are unaffected; the attacker's budget comes back after the hour.
    assert (await sign_in(api.client, "erin@example.com", PASSWORD)).json()["status"] == "OK"
    api.clock.advance(hours=1)
    async with client_at(api, ATTACKER) as attacker:
        assert (await sign_in(attacker, "erin@example.com", PASSWORD)).json()["status"] == "OK"


async def test_rl_04_successful_sign_ins_cost_an_address_nothing(database_url: str) -> None:
    async with running_api(database_url, rate_limit_failed_sign_ins_per_ip=3) as api:
        await sign_up(api.client, "erin@example.com")
        for _ in range(10):
            ok = await sign_in(api.client, "erin@example.com", PASSWORD)
            assert ok.json()["status"] == "OK"
        statuses = [
            (await sign_in(api.client, f"x{n}@example.com", WRONG)).status_code for n in range(4)
        ]
        assert statuses == [200] * 3 + [429]


async def test_rl_05_at_most_five_reset_emails_per_account_and_the_same_answer_for_unknown(
    database_url: str,
) -> None:
    with SmtpSink() as smtp:
        async with (
            running_api(database_url, **smtp_settings(smtp)) as api,
            client_at(api, ATTACKER) as one,
            client_at(api, VICTIM) as other,
        ):
            await sign_up(api.client, "frank@example.com")

            async def ask(client: httpx.AsyncClient, email: str) -> httpx.Response:
                return await client.post(
                    "/auth/user/password/reset/token", json=form(email=email), headers=EP
                )

            known, unknown = [], []
            for _ in range(20):  # twenty requests within the minute, from two addresses
                api.clock.advance(seconds=2)
                known.append(await ask(one, "frank@example.com"))
                unknown.append(await ask(other, "nobody@example.com"))
            assert len(smtp.received) == 5
            assert all(m.rcpt_tos == ("frank@example.com",) for m in smtp.received)
            assert [r.status_code for r in known] == [200] * 5 + [429] * 15
            throttled(known[-1])
            assert [comparable(r) for r in unknown] == [comparable(r) for r in known]
            # The budget per address (20 an hour) is spent too: any other email is refused.
            throttled(await ask(one, "someone.else@example.com"))


async def test_rl_05_verification_emails_are_limited_per_user(database_url: str) -> None:
    with SmtpSink() as smtp:
        async with running_api(database_url, **smtp_settings(smtp)) as api:
            signed_up = await api.client.post(
                "/auth/signup", json=form(email="gina@example.com", password=PASSWORD)
            )
            bearer = {"authorization": f"Bearer {signed_up.headers['st-access-token']}"}
            headers = bearer | {"rid": "emailverification"}
            statuses = [
                (
                    await api.client.post("/auth/user/email/verify/token", headers=headers)
                ).status_code
                for _ in range(7)
            ]
            assert statuses == [200] * 5 + [429] * 2
            assert len(smtp.received) == 5


async def test_throttled_sign_in_is_identical_for_known_and_unknown_emails(api: Api) -> None:
    await sign_up(api.client, "heidi@example.com")
    async with client_at(api, ATTACKER) as one, client_at(api, VICTIM) as other:
        known = [await sign_in(one, "heidi@example.com", WRONG) for _ in range(7)]
        unknown = [await sign_in(other, "nobody@example.com", WRONG) for _ in range(7)]
    assert [r.status_code for r in known] == [200] * 5 + [429] * 2
    assert [comparable(r) for r in known] == [comparable(r) for r in unknown]


async def test_sign_up_email_exists_and_refresh_are_limited_per_address(database_url: str) -> None:
    limits = {"rate_limit_requests_per_ip": 3, "rate_limit_refreshes_per_ip": 2}
    async with running_api(database_url, **limits) as api:
        created = [
            await api.client.post(
                "/auth/signup", json=form(email=f"u{n}@example.com", password=PASSWORD)
            )
            for n in range(4)
        ]
        assert [r.status_code for r in created] == [200] * 3 + [429]
        exists = [
            await api.client.get("/auth/emailpassword/email/exists", params={"email": f"x{n}@b.co"})
            for n in range(4)
        ]
        assert [r.status_code for r in exists] == [200] * 3 + [429]
        refresh = created[0].headers["st-refresh-token"]
        refreshes = []
        for _ in range(3):
            answer = await api.client.post(
                "/auth/session/refresh", headers={"authorization": f"Bearer {refresh}"}
            )
            refreshes.append(answer.status_code)
            refresh = answer.headers.get("st-refresh-token", refresh)
        assert refreshes == [200, 200, 429]
        api.clock.advance(seconds=60)
        assert (
            await api.client.get("/auth/emailpassword/email/exists", params={"email": "a@b.co"})
        ).status_code == 200


async def test_provider_sign_ins_and_their_urls_are_limited_per_address(
    database_url: str,
) -> None:
    """Each third-party sign-in calls the provider: a budget of its own per address (the
    sign-up budget would stop an office behind one address signing in with its SSO)."""
    provider = {"thirdPartyId": "acme", "clients": [{"clientId": "spa"}],
                "authorizationEndpoint": "https://idp.example/authorize",
                "tokenEndpoint": "https://idp.example/token"}  # fmt: skip
    limits = {"rate_limit_provider_sign_ins_per_ip": 2, "rate_limit_requests_per_ip": 1}
    async with running_api(database_url, thirdparty_providers=[provider], **limits) as api:
        tp = {"rid": "thirdparty"}
        params = {
            "thirdPartyId": "acme",
            "redirectURIOnProviderDashboard": "http://localhost:3567/cb",
        }
        urls = [
            await api.client.get("/auth/authorisationurl", params=params, headers=tp)
            for _ in range(3)
        ]
        assert [r.status_code for r in urls] == [200, 200, 429]
        body = {"thirdPartyId": "acme", "oAuthTokens": {"access_token": "unchecked"}}
        sign_ins = [
            await api.client.post("/auth/signinup", json=body, headers=tp) for _ in range(3)
        ]
        assert [r.status_code for r in sign_ins] == [200, 200, 429]
        assert sign_ins[2].headers["retry-after"]
        api.clock.advance(seconds=60)
        assert (await api.client.post("/auth/signinup", json=body, headers=tp)).status_code == 200


async def refresh_statuses(apis: list[Api], times: int) -> list[int]:
    """Refresh one session ``times`` times, going round ``apis``; the answers' statuses."""
    token = (await apis[0].create_session()).refresh_token
    statuses = []
    for n in range(times):
        answer = await apis[n % len(apis)].client.post(
            "/auth/session/refresh", headers={"authorization": f"Bearer {token}"}
        )
        statuses.append(answer.status_code)
        token = answer.headers.get("st-refresh-token", token)
    return statuses


async def test_refreshes_are_counted_in_blocks_and_never_past_the_budget(
    database_url: str,
) -> None:
    async with running_api(database_url, rate_limit_refreshes_per_ip=25) as api:
        assert await refresh_statuses([api], 1) == [200]
        async with api.runtime.stores.db.read() as conn:
            stored = await conn.execute(text("SELECT count FROM rate_limits"))
            assert stored.scalar_one() == 2, "one refresh took a block of a tenth of the budget"
        assert await refresh_statuses([api], 26) == [200] * 24 + [429] * 2
        api.clock.advance(seconds=60)
        assert await refresh_statuses([api], 1) == [200]


async def test_counters_unavailable_is_503_never_a_decision(api: Api, tmp_path: Path) -> None:
    """Fail closed but honest: without the database the limits cannot be checked, and the
    answer is the usual retryable 503 (not 429, not 500, not a sign-in without a count)."""
    await sign_up(api.client, "kim@example.com")
    db = api.runtime.stores.db
    async with database_unreachable(db, tmp_path):
        response = await sign_in(api.client, "kim@example.com", PASSWORD)
        assert response.status_code == 503, response.text
        assert response.headers["retry-after"].isdigit()
    assert (await sign_in(api.client, "kim@example.com", PASSWORD)).json()["status"] == "OK"
    join_sqlite_workers()


async def test_limits_are_off_when_disabled(database_url: str) -> None:
    async with running_api(database_url, rate_limiting=False) as api:
        statuses = [
            (await sign_in(api.client, "ivan@example.com", WRONG)).status_code for _ in range(12)
        ]
    assert statuses == [200] * 12


# Two instances share one PostgreSQL database: conftest's fresh one, on PostgreSQL only.
ON_POSTGRESQL = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@ON_POSTGRESQL
async def test_rl_01_limits_are_shared_by_two_instances_on_one_postgres_database(
    database_url: str,
) -> None:
    async with (
        running_api(database_url) as first,
        running_api(database_url) as second,
    ):
        await sign_up(first.client, "judy@example.com")
        statuses = [
            (await sign_in(app.client, "judy@example.com", WRONG)).status_code
            for app in [first, second] * 4
        ]
        assert statuses == [200] * 5 + [429] * 3
        throttled(await sign_in(second.client, "judy@example.com", PASSWORD))
        first.clock.advance(seconds=1)
        second.clock.advance(seconds=1)
        ok = await sign_in(second.client, "judy@example.com", PASSWORD)
        assert ok.json()["status"] == "OK"
        again = await sign_in(first.client, "judy@example.com", WRONG)
        assert again.json()["status"] == "WRONG_CREDENTIALS_ERROR", "the success was shared too"


@ON_POSTGRESQL
async def test_refresh_blocks_are_drawn_from_the_budget_both_instances_share(
    database_url: str,
) -> None:
    limits = {"rate_limit_refreshes_per_ip": 20}  # blocks of 2
    async with (
        running_api(database_url, **limits) as first,
        running_api(database_url, **limits) as second,
    ):
        assert await refresh_statuses([first, second], 22) == [200] * 20 + [429] * 2
