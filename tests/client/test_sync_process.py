"""The sync client (``httpx.Client``) against a real ``tokenward serve`` process: sign-in,
protected calls, one refresh shared by many threads, expiry after a sign-out elsewhere."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.client.process import ShiftedClock, new_user, serve
from tests.client.support import PASSWORD, REFRESH, SIGNIN, Recorder, SyncRecordingTransport
from tests.support.server import ServeProcess
from tokenward.client import SessionAuth, SessionExpired

VERIFY = "/auth/user/email/verify"  # GET: requires a session, answers 200
HOUR_MS = 3_600_000  # the server's default access-token validity


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[ServeProcess]:
    with serve(tmp_path_factory.mktemp("serve"), sqlite_template) as running:
        yield running


def client_for(server: ServeProcess, auth: SessionAuth, recorder: Recorder) -> httpx.Client:
    transport = SyncRecordingTransport(httpx.HTTPTransport(), recorder)
    return httpx.Client(base_url=server.url, auth=auth, transport=transport)


def test_sync_client_signs_in_and_calls_a_protected_route(server: ServeProcess) -> None:
    email = new_user(server)
    recorder = Recorder()
    auth = SessionAuth(server.url, email=email, password=PASSWORD)
    with client_for(server, auth, recorder) as client:
        response = client.get(VERIFY)
        assert (response.status_code, response.json()) == (
            200,
            {"status": "OK", "isVerified": False},
        )
        user = auth.sign_in(client)
        assert user["emails"] == [email] and auth.user_id == user["id"]
        assert client.get(VERIFY).status_code == 200
        auth.sign_out(client)
    assert not auth.signed_in
    assert recorder.paths() == [
        (SIGNIN, 200),
        (VERIFY, 200),
        (SIGNIN, 200),
        (VERIFY, 200),
        ("/auth/signout", 200),
    ]


def test_threads_sharing_a_client_share_one_refresh(server: ServeProcess) -> None:
    email = new_user(server)
    clock = ShiftedClock()
    recorder = Recorder()
    auth = SessionAuth(server.url, email=email, password=PASSWORD, now_ms=clock.now_ms)
    threads = 16
    with client_for(server, auth, recorder) as client:
        auth.sign_in(client)
        clock.offset_ms = HOUR_MS  # the client now sees its token about to expire
        barrier = threading.Barrier(threads)

        def call(_: int) -> int:
            barrier.wait()
            return client.get(VERIFY).status_code

        with ThreadPoolExecutor(threads) as pool:
            statuses = list(pool.map(call, range(threads)))
    assert statuses == [200] * threads
    assert recorder.count(REFRESH) == 1
    assert all(status == 200 for _, status in recorder.paths())


def test_signed_out_elsewhere_the_session_expires_once(
    server: ServeProcess, tmp_path: Path
) -> None:
    email = new_user(server)
    token_file = tmp_path / "tokens.json"
    clock = ShiftedClock()
    recorder = Recorder()
    expired: list[SessionExpired] = []
    with httpx.Client(base_url=server.url) as plain:
        login = SessionAuth(server.url, email=email, password=PASSWORD, token_file=token_file)
        login.sign_in(plain)
        auth = SessionAuth(
            server.url,
            token_file=token_file,
            now_ms=clock.now_ms,
            on_session_expired=expired.append,
        )
        SessionAuth(server.url, token_file=token_file).sign_out(plain)  # another client
    assert auth.signed_in  # it still holds its copy of the tokens
    with client_for(server, auth, recorder) as client:
        clock.offset_ms = HOUR_MS
        with pytest.raises(SessionExpired):
            client.get(VERIFY)
        assert client.get(VERIFY).status_code == 401  # no tokens, nothing to renew
    assert recorder.paths() == [(REFRESH, 401), (VERIFY, 401)]
    assert len(expired) == 1 and not auth.signed_in
