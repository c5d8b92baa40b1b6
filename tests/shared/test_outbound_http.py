"""Outbound HTTP to identity providers, against a real local HTTP server: JSON answers, the
retries a GET gets and a POST never gets, the errors (retryable or final) and what their
messages must never quote."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from tests.support.idp import DROP, Answer, FakeProvider
from tests.support.smtp import closed_port
from tokenward.__about__ import __version__
from tokenward.shared.outbound_http import (
    MAX_RESPONSE_BYTES,
    ProviderRefused,
    ProviderUnavailable,
    get_json,
    get_json_list,
    make_client,
    post_form_json,
)

CLIENT_SECRET = "cs-9f8e7d6c5b4a39281706aabbccddeeff"
CODE = "authcode-0123456789abcdefghijklmnop"
VERIFIER = "pkce-verifier-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1"
QUERY_SECRET = "qs-secret-abcdefghijklmnopqrstuv"
SECRETS = (CLIENT_SECRET, CODE, VERIFIER, QUERY_SECRET)


@pytest.fixture
def idp() -> Iterator[FakeProvider]:
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(timeout_s=2.0) as c:
        yield c


def token_form() -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": CODE,
        "code_verifier": VERIFIER,
        "client_id": "my-client",
        "client_secret": CLIENT_SECRET,
    }


def assert_no_secret(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *(str(a) for a in exc.args)):
        for secret in SECRETS:
            assert secret not in text
    # Nothing chained that a traceback would print (with the request, URL and all).
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__


async def test_get_json_returns_the_object_and_identifies_itself(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/.well-known/openid-configuration", Answer(body={"issuer": "https://idp"}))
    got = await get_json(client, idp.url("/.well-known/openid-configuration"), params={"x": "1"})
    assert got == {"issuer": "https://idp"}
    [request] = idp.received
    assert request.headers["User-Agent"] == f"tokenward/{__version__}"
    assert request.path == "/.well-known/openid-configuration?x=1"


async def test_client_timeouts_and_redirect_policy() -> None:
    async with make_client(timeout_s=7.5) as c:
        assert c.timeout.connect == 5.0
        assert c.timeout.read == 7.5
        assert c.follow_redirects is False
    with pytest.raises(ValueError):
        make_client(timeout_s=0)


async def test_redirect_is_not_followed(idp: FakeProvider, client: httpx.AsyncClient) -> None:
    idp.answer("/jwks", Answer(status=302, headers={"Location": idp.url("/elsewhere")}))
    with pytest.raises(ProviderUnavailable, match="redirects are not followed"):
        await get_json(client, idp.url("/jwks"), retry_delay_s=0)
    assert idp.hits["/elsewhere"] == 0


async def test_server_error_is_retryable_and_not_retried(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/jwks", Answer(status=503, body={"detail": QUERY_SECRET}))
    with pytest.raises(ProviderUnavailable) as caught:
        await get_json(client, idp.url(f"/jwks?token={QUERY_SECRET}"), retry_delay_s=0)
    assert caught.value.retryable
    assert "503" in str(caught.value)
    assert caught.value.host in str(caught.value)
    assert idp.hits["/jwks"] == 1
    assert_no_secret(caught.value)


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b"[1, 2]", b'{"a": 1, "a": 2}', b"\xff\xfe", b""],
    ids=["html", "array", "duplicate-keys", "not-utf8", "empty"],
)
async def test_a_body_that_is_not_a_json_object_is_unavailable(
    idp: FakeProvider, client: httpx.AsyncClient, body: bytes
) -> None:
    idp.answer("/jwks", Answer(body=body))
    with pytest.raises(ProviderUnavailable, match="not a JSON object") as caught:
        await get_json(client, idp.url("/jwks"), retry_delay_s=0)
    assert caught.value.retryable


async def test_an_oversized_answer_is_not_read(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/jwks", Answer(body=b" " * (MAX_RESPONSE_BYTES + 1)))
    with pytest.raises(ProviderUnavailable, match="larger than"):
        await get_json(client, idp.url("/jwks"), retry_delay_s=0)


async def test_get_is_retried_after_a_dropped_connection(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/jwks", Answer(body={"keys": []}))
    idp.script("/jwks", DROP, DROP)
    assert await get_json(client, idp.url("/jwks"), retry_delay_s=0) == {"keys": []}
    assert idp.hits["/jwks"] == 3


async def test_get_gives_up_after_its_retries(idp: FakeProvider, client: httpx.AsyncClient) -> None:
    idp.answer("/jwks", DROP)
    with pytest.raises(ProviderUnavailable, match=r"3 attempts") as caught:
        await get_json(client, idp.url(f"/jwks?k={QUERY_SECRET}"), retry_delay_s=0)
    assert idp.hits["/jwks"] == 3
    assert caught.value.retryable
    assert_no_secret(caught.value)


async def test_a_slow_answer_times_out(idp: FakeProvider) -> None:
    idp.answer("/jwks", Answer(body={"keys": []}, delay_s=3))
    async with make_client(timeout_s=0.3) as c:
        with pytest.raises(ProviderUnavailable, match="no answer within 0.3 s") as caught:
            await get_json(c, idp.url("/jwks"), retries=1, retry_delay_s=0)
    assert caught.value.retryable
    assert idp.hits["/jwks"] == 2


async def test_nobody_listening_is_unavailable(client: httpx.AsyncClient) -> None:
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}/jwks?s={QUERY_SECRET}"
        with pytest.raises(ProviderUnavailable, match=f"127.0.0.1:{port}") as caught:
            await get_json(client, url, retry_delay_s=0)
    assert caught.value.retryable
    assert_no_secret(caught.value)


async def test_post_sends_the_form_and_basic_auth(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/token", Answer(body={"id_token": "x", "token_type": "Bearer"}))
    got = await post_form_json(
        client, idp.url("/token"), token_form(), auth=("my-client", CLIENT_SECRET)
    )
    assert got == {"id_token": "x", "token_type": "Bearer"}
    [request] = idp.received
    assert request.method == "POST"
    assert parse_qs(request.body.decode()) == {k: [v] for k, v in token_form().items()}
    expected = base64.b64encode(f"my-client:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {expected}"


async def test_post_is_never_retried(idp: FakeProvider, client: httpx.AsyncClient) -> None:
    idp.answer("/token", Answer(body={"id_token": "x"}))
    idp.script("/token", DROP)
    with pytest.raises(ProviderUnavailable, match="not retried") as caught:
        await post_form_json(client, idp.url("/token"), token_form())
    assert idp.hits["/token"] == 1
    assert caught.value.retryable
    assert_no_secret(caught.value)


async def test_post_server_error_is_unavailable(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/token", Answer(status=500, body={"echo": CODE}))
    with pytest.raises(ProviderUnavailable, match="500") as caught:
        await post_form_json(client, idp.url("/token"), token_form())
    assert idp.hits["/token"] == 1
    assert_no_secret(caught.value)


async def test_oauth_error_is_parsed_masked_and_final(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    description = (
        f"The code {CODE} was already used; client secret {CLIENT_SECRET} verifier {VERIFIER}. "
        + "More words. " * 40
    )
    idp.answer(
        "/token",
        Answer(status=400, body={"error": "invalid_grant", "error_description": description}),
    )
    with pytest.raises(ProviderRefused) as caught:
        await post_form_json(
            client, idp.url("/token"), token_form(), auth=("my-client", CLIENT_SECRET)
        )
    refused = caught.value
    assert not refused.retryable
    assert refused.status == 400
    assert refused.error == "invalid_grant"
    assert refused.error_description is not None
    assert refused.error_description.startswith("The code [redacted] was already used")
    assert len(refused.error_description) <= 203
    assert "invalid_grant" in str(refused)
    assert_no_secret(refused)


async def test_an_error_in_a_200_token_answer_is_refused(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    """GitHub answers a bad or used code with 200 and an OAuth error object."""
    body = {"error": "bad_verification_code", "error_description": f"code {CODE} is wrong"}
    idp.answer("/token", Answer(body=body))
    with pytest.raises(ProviderRefused) as caught:
        await post_form_json(client, idp.url("/token"), token_form())
    assert caught.value.status == 200 and caught.value.error == "bad_verification_code"
    assert not caught.value.retryable
    assert_no_secret(caught.value)


async def test_get_json_list_reads_an_array_and_refuses_an_object(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    emails = [{"email": "octo@example.com", "primary": True, "verified": True}]
    idp.answer("/user/emails", Answer(body=emails))
    assert await get_json_list(client, idp.url("/user/emails")) == emails
    assert idp.received[0].headers["Accept"] == "application/json"
    idp.answer("/user/emails", Answer(body={"message": "Bad credentials"}))
    with pytest.raises(ProviderUnavailable, match="not a JSON array"):
        await get_json_list(client, idp.url("/user/emails"), retry_delay_s=0)


async def test_a_token_like_error_code_is_masked(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    leaked = "eyJhbGciOiJSUzI1NiJ9abcdefghijklmnop"
    idp.answer("/token", Answer(status=401, body={"error": leaked}))
    with pytest.raises(ProviderRefused) as caught:
        await post_form_json(client, idp.url("/token"), token_form())
    assert caught.value.error == "[redacted]"
    assert leaked not in str(caught.value)


async def test_a_4xx_without_oauth_json_is_refused_without_details(
    idp: FakeProvider, client: httpx.AsyncClient
) -> None:
    idp.answer("/userinfo", Answer(status=403, body=b"<h1>Forbidden</h1>"))
    with pytest.raises(ProviderRefused) as caught:
        await get_json(client, idp.url("/userinfo"), headers={"Authorization": f"Bearer {CODE}"})
    assert (caught.value.status, caught.value.error, caught.value.error_description) == (
        403,
        None,
        None,
    )
    assert idp.hits["/userinfo"] == 1
    assert_no_secret(caught.value)


async def test_too_many_requests_is_retryable(idp: FakeProvider, client: httpx.AsyncClient) -> None:
    idp.answer("/jwks", Answer(status=429, body={"error": "slow_down"}))
    with pytest.raises(ProviderUnavailable, match="429"):
        await get_json(client, idp.url("/jwks"), retry_delay_s=0)


async def test_only_http_urls_are_accepted(client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError):
        await get_json(client, "file:///etc/passwd")
    with pytest.raises(ValueError):
        await post_form_json(client, "https:///no-host", {})


async def test_request_logs_keep_no_query(caplog: pytest.LogCaptureFixture) -> None:
    """httpx logs each URL at INFO: a query may carry a credential (Facebook's token check
    takes the app secret there), so the provider client's records drop it."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": {}})

    caplog.set_level(logging.INFO, logger="httpx")
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        await get_json(
            client,
            "https://graph.facebook.example/debug_token",
            params={"input_token": "user-token-xyz", "access_token": "app|secret-abc"},
        )
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "httpx")
    assert "debug_token?…" in logged
    assert "secret-abc" not in logged and "user-token-xyz" not in logged


async def test_a_providers_cookie_never_rides_on_the_next_request() -> None:
    """The client serves every user: a cookie one exchange got must not go out with the
    next user's."""
    sent: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.headers.get("cookie"))
        return httpx.Response(200, json={"ok": True}, headers={"set-cookie": "sid=alice; Path=/"})

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        for _ in range(2):
            await get_json(client, "https://idp.example/userinfo")
            await post_form_json(client, "https://idp.example/token", {"code": "c"})
    assert sent == [None] * 4
