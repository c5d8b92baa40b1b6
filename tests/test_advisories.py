"""The security checklist's token attacks, end to end over HTTP on SQLite and PostgreSQL
(issue #8): JWT access tokens and refresh-token rotation, Top-25 items 1-8.

Each test is named after the requirement IDs it proves; SECURITY.md maps every Top-25 item to
its tests, and tests/test_advisories_accounts.py has the session, password, account and input
items. tests/recipes and tests/shared prove the same rules unit by unit; these prove them at the
protected route ``/test/session`` and the FDI endpoints, where a 500 or a missed check would show.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from tests.support.api import Api, running_api
from tests.support.attacks import (
    PROTECTED,
    REFRESH,
    assert_refused,
    call,
    cookie,
    refresh,
)
from tests.support.forge import (
    HMAC_DIGESTS,
    hmac_signed,
    parts,
    patched,
    rs256,
    segment,
    unsigned,
)
from tokenward.recipes.jwt.rules import generate_rsa_private_key, public_jwk, public_key_from_jwk
from tokenward.shared.database.direct_statements import DriverStatement
from tokenward.shared.database.errors import StoreUnavailable


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as running:
        yield running


async def our_key(api: Api) -> RSAPrivateKey:
    _, key = await api.runtime.services.keys.signing_key()
    return key


def resigned(token: str, key: RSAPrivateKey, **payload: Any) -> str:
    header, body = patched(token, payload=payload)
    return rs256(header, body, key)


# --- JWT access tokens (Top 25 items 5-8, JWT-10) --------------------------------------------


async def test_jwt_01_alg_none_variants_rejected(api: Api) -> None:
    token = (await api.create_session()).access.token
    assert (await call(api, token)).status_code == 200
    real_signature = token.split(".")[2]
    for alg in ("none", "None", "NONE", "nOnE", "RS512", "PS256", "ES256", "EdDSA"):
        header, payload = patched(token, {"alg": alg})
        for signature in ("", "Z2FyYmFnZQ", real_signature):
            assert_refused(await call(api, unsigned(header, payload, signature)))


async def test_jwt_02_hs_rs_key_confusion_pem_der_jwk(api: Api) -> None:
    token = (await api.create_session()).access.token
    jwks = await api.client.get("/.well-known/jwks.json")
    [jwk] = [k for k in jwks.json()["keys"] if k["kid"] == parts(token)[0]["kid"]]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk), "JWT-09: public parts only"
    public = public_key_from_jwk(jwk)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    secrets = [
        public.public_bytes(serialization.Encoding.PEM, spki),
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        public.public_bytes(serialization.Encoding.DER, spki),
        public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH),
        json.dumps(jwk).encode(),
        jwks.content,
    ]
    for alg in HMAC_DIGESTS:
        header, payload = patched(token, {"alg": alg})
        for secret in secrets:
            assert_refused(await call(api, hmac_signed(header, payload, secret)))


async def test_jwt_03_ses_02_tampered_payload_and_signature_rejected(api: Api) -> None:
    alice = (await api.create_session("alice")).access.token
    bob = (await api.create_session("bob")).access.token
    h, p, s = alice.split(".")
    forged_payload = segment({**parts(alice)[1], "sub": "admin"})
    cases = [
        f"{h}.{forged_payload}.{s}",
        f"{h}.{p}.{bob.split('.')[2]}",
        f"{h}.{p}.",
        f"{h}.{p}.{s[:-4]}",
    ]
    for index in range(0, len(alice), 7):  # one flipped character in every segment
        if alice[index] != ".":
            flipped = "B" if alice[index] == "A" else "A"
            cases.append(alice[:index] + flipped + alice[index + 1 :])
    for case in cases:
        assert_refused(await call(api, case))
    issued = await api.create_session()
    tampered = issued.refresh_token[:-3] + ("A" if issued.refresh_token[-3] != "A" else "B")
    tampered += issued.refresh_token[-2:]
    assert (await refresh(api, tampered)).status_code == 401
    assert (await refresh(api, issued.refresh_token)).status_code == 200


async def test_jwt_04_kid_injection(api: Api) -> None:
    token = (await api.create_session()).access.token
    key = await our_key(api)
    for kid in ["unknown", "../../dev/null", "/etc/passwd", "' OR '1'='1", "x" * 10_000, "", 1]:
        header, payload = patched(token, {"kid": kid})
        assert_refused(await call(api, rs256(header, payload, key)))
    assert_refused(await call(api, rs256(*patched(token, {"kid": None}), key)))


@asynccontextmanager
async def loopback_listener() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A TCP server on 127.0.0.1 that records every connection it gets."""
    hits: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hits.append(await reader.read(100))
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", hits
    finally:
        server.close()
        await server.wait_closed()


@contextmanager
def connect_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The address of every socket connect in this process (any thread) inside the block,
    recorded synchronously before the connect itself. The stdlib, asyncio's selector loop (so
    asyncpg, anyio and httpx, sync or async) all connect through these two methods."""
    attempts: list[Any] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        attempts.append(address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        attempts.append(address)
        return real_connect_ex(sock, address)

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        yield attempts


async def test_jwt_05_embedded_jwk_jku_x5u_x5c_ignored(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (await api.create_session()).access.token
    attacker = generate_rsa_private_key()
    ours = await our_key(api)
    async with loopback_listener() as (url, hits):
        injected: list[dict[str, Any]] = [
            {"jwk": public_jwk("attacker", attacker.public_key()), "kid": "attacker"},
            {"jwk": public_jwk(parts(token)[0]["kid"], attacker.public_key())},
            {"jku": f"{url}/jwks.json", "kid": "attacker"},
            {"jku": f"{url}/jwks.json"},
            {"x5u": f"{url}/cert.pem"},
            {"x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]},
        ]
        with connect_attempts(monkeypatch) as attempts:
            for extra in injected:
                header, payload = patched(token, extra)
                assert_refused(await call(api, rs256(header, payload, attacker)))
                # The header alone is enough: even our own signature does not make it acceptable.
                assert_refused(await call(api, rs256(header, payload, ours)))
            assert attempts == [], "no outbound connection while the headers were judged"
            # The recorder is live: the fetch a jku would cause is caught, by both witnesses.
            async with httpx.AsyncClient(trust_env=False) as fetcher:
                with pytest.raises(httpx.RemoteProtocolError):  # the listener never answers
                    await fetcher.get(f"{url}/jwks.json")
        listener = httpx.URL(url)
        assert attempts == [(listener.host, listener.port)]
    assert len(hits) == 1 and hits[0].startswith(b"GET /jwks.json "), hits


async def test_jwt_06_unknown_crit_rejected(api: Api) -> None:
    token = (await api.create_session()).access.token
    key = await our_key(api)
    extras: list[dict[str, Any]] = [{"crit": ["x"], "x": True}, {"crit": ["exp"]}, {"crit": []}]
    for extra in extras:
        assert_refused(await call(api, rs256(*patched(token, extra), key)))


async def test_jwt_07_expired_and_leeway(api: Api) -> None:
    token = (await api.create_session()).access.token  # access_token_validity: 3600 s
    api.clock.advance(seconds=3599)
    assert (await call(api, token)).status_code == 200
    api.clock.advance(seconds=1)
    expired = await call(api, token)
    assert (expired.status_code, expired.json()) == (401, {"message": "try refresh token"})

    fresh = (await api.create_session()).access.token
    key = await our_key(api)
    now = api.clock.now // 1000
    for claims in (
        {"exp": None},
        {"exp": now},
        {"exp": now - 61},
        {"exp": str(now + 60)},
        {"exp": True},
        {"nbf": now + 61},
        {"iat": now + 86_400},
    ):
        assert_refused(await call(api, resigned(fresh, key, **claims)))
    # Clock skew between instances: up to 60 s of nbf/iat in the future is tolerated.
    for claims in ({"nbf": now + 59}, {"iat": now + 59}):
        assert (await call(api, resigned(fresh, key, **claims))).status_code == 200


async def test_jwt_08_wrong_issuer(api: Api) -> None:
    token = (await api.create_session()).access.token
    key = await our_key(api)
    issuer = parts(token)[1]["iss"]
    assert issuer == "http://localhost:3567/auth"
    assert (await call(api, resigned(token, key, iss=issuer))).status_code == 200
    wrong_issuers: list[Any] = [
        issuer[:-1],
        issuer + "x",
        issuer + ".evil",
        issuer.upper(),
        None,
        [],
    ]
    for wrong in wrong_issuers:
        assert_refused(await call(api, resigned(token, key, iss=wrong)))
    for typ in ("at+jwt", "jwt", "JWS", None):
        assert_refused(await call(api, rs256(*patched(token, {"typ": typ}), key)))
    # Same key, other token shapes: not a session access token (stt), or an ID-token shape.
    assert_refused(await call(api, resigned(token, key, stt=1)))
    header, _ = parts(token)
    id_token = {"iss": issuer, "sub": "user-1", "aud": "client", "exp": 2**31, "iat": 0}
    assert_refused(await call(api, rs256(header, id_token, key)))


async def test_rt_09_refresh_token_as_access_token_and_reverse(api: Api) -> None:
    issued = await api.create_session()
    assert_refused(await call(api, issued.refresh_token))
    cookie_rt = await api.client.get(PROTECTED, headers=cookie(sAccessToken=issued.refresh_token))
    assert_refused(cookie_rt)
    assert (await refresh(api, issued.access.token)).status_code == 401
    as_cookie = await api.client.post(
        REFRESH, headers={"rid": "session"} | cookie(sRefreshToken=issued.access.token)
    )
    assert as_cookie.status_code == 401
    assert (await refresh(api, issued.refresh_token)).status_code == 200, "nothing was harmed"


async def test_jwt_10_malformed_tokens_are_401_never_500(api: Api) -> None:
    token = (await api.create_session()).access.token
    key = await our_key(api)
    h, p, s = token.split(".")
    for case in (
        "",
        "a",
        f"{h}.{p}",
        f"{h}.{p}.{s}.{s}",
        f"{h}.{p}.{s}.",
        "!!!.@@@.###",
        f"{segment('not json')}.{p}.{s}",
        f"{segment([1, 2])}.{p}.{s}",
        f"{h}.%%%.{s}",
        "x" * 1_000_000,
        f"{h}.{'A' * 1_000_000}.{s}",
        rs256(parts(token)[0], {}, key),
    ):
        assert_refused(await call(api, case))
    assert_refused(await call(api, rs256(parts(token)[0], bytes([0xFF, 0xFE, 0xFD]), key)))
    raw = await api.client.get(PROTECTED, headers=[(b"authorization", b"Bearer " + b"\xff" * 9)])
    assert_refused(raw)


# --- Refresh-token rotation (Top 25 items 1-4) ------------------------------------------------


async def test_rt_05_rt_06_parallel_refreshes_never_theft_and_promote_once(api: Api) -> None:
    issued = await api.create_session()
    handle = issued.access.claims.session_handle
    tabs = await asyncio.gather(*(refresh(api, issued.refresh_token) for _ in range(20)))
    assert [r.status_code for r in tabs] == [200] * 20, "parallel tabs never look like theft"
    child = tabs[0].headers["st-refresh-token"]
    first_uses = await asyncio.gather(*(refresh(api, child) for _ in range(20)))
    assert [r.status_code for r in first_uses] == [200] * 20
    record = await api.runtime.stores.sessions.get(handle)
    assert record is not None, "the session survived"
    # The promotion happened once; the parent is now stale, and 20 racing uses of it all fail.
    stale = await asyncio.gather(*(refresh(api, issued.refresh_token) for _ in range(20)))
    assert not [r for r in stale if r.status_code == 200]
    assert {r.status_code for r in stale} == {401}


async def test_rt_02_reused_older_token_revokes_the_family(api: Api) -> None:
    first = await api.create_session()
    second = await refresh(api, first.refresh_token)
    third = await refresh(api, second.headers["st-refresh-token"])
    latest_access = third.headers["st-access-token"]
    assert (await call(api, latest_access, check_database=True)).status_code == 200

    replay = await refresh(api, first.refresh_token)
    assert (replay.status_code, replay.json()) == (401, {"message": "token theft detected"})
    assert replay.headers["front-token"] == "remove"
    assert (await refresh(api, third.headers["st-refresh-token"])).status_code == 401
    assert_refused(await call(api, latest_access, check_database=True))


async def test_rt_03_rt_04_lost_response_retry_and_older_generations_are_theft(api: Api) -> None:
    issued = await api.create_session()
    lost = await refresh(api, issued.refresh_token)  # the client never sees this answer
    assert lost.status_code == 200
    retry = await refresh(api, issued.refresh_token)
    assert retry.status_code == 200, "a retry with the same token recovers the session"
    newer = await refresh(api, retry.headers["st-refresh-token"])
    assert newer.status_code == 200
    assert (await call(api, newer.headers["st-access-token"])).status_code == 200
    # Only the immediate predecessor was tolerated, and only until its child was used: the
    # grandparent, or the unused sibling from the lost response, is now theft.
    sibling = await refresh(api, lost.headers["st-refresh-token"])
    assert sibling.json() == {"message": "token theft detected"}


async def test_rt_12_store_failure_mid_refresh_is_503_and_consumes_nothing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = await api.create_session()
    child = (await refresh(api, issued.refresh_token)).headers["st-refresh-token"]

    async def unavailable(*args: Any, **kwargs: Any) -> bool:
        raise StoreUnavailable("connection lost")

    # The failure strikes after the session row was read, at the promoting write.
    with monkeypatch.context() as patch:
        patch.setattr(DriverStatement, "write", unavailable)
        failed = await refresh(api, child)
    assert failed.status_code == 503 and failed.headers["retry-after"].isdigit()
    assert "front-token" not in failed.headers, "an outage must not sign the user out"
    assert "connection lost" not in failed.text
    retried = await refresh(api, child)
    assert retried.status_code == 200, "the same refresh token still works: nothing consumed"
