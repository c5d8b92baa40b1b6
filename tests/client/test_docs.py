"""Every Python block in docs/client.md runs here, against a real ``tokenward serve``, so the
documentation cannot drift from the code."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client.process import new_user, serve
from tests.client.support import PASSWORD
from tests.support.postgres import free_port
from tests.support.server import ServeProcess

DOC = Path(__file__).parents[2] / "docs" / "client.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path
) -> Iterator[ServeProcess]:
    with serve(tmp_path_factory.mktemp("serve-docs"), sqlite_template) as running:
        yield running


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    """The names the documentation's code blocks define, each block run on its own."""
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) == 4
    names: dict[str, Any] = {}
    for block in blocks:
        namespace: dict[str, Any] = {"__name__": "client_md"}
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own docs
        names.update(namespace)
    return names


def test_quick_start(doc: dict[str, Any], server: ServeProcess) -> None:
    assert doc["is_verified"](server.url, new_user(server), PASSWORD) is False


def test_async_example(doc: dict[str, Any], server: ServeProcess) -> None:
    statuses = asyncio.run(doc["check_many"](server.url, new_user(server), PASSWORD, 5))
    assert statuses == [200] * 5


def test_cli_example_stays_signed_in_between_runs(
    doc: dict[str, Any], server: ServeProcess, tmp_path: Path
) -> None:
    token_file = tmp_path / "tokens.json"
    user_id = doc["login"](server.url, new_user(server), PASSWORD, token_file)
    assert user_id and token_file.exists()
    assert doc["status"](server.url, token_file) is False
    assert doc["status"](server.url, token_file) is False
    doc["logout"](server.url, token_file)
    assert not token_file.exists()
    with pytest.raises(SystemExit, match="not signed in"):
        doc["status"](server.url, token_file)


def test_error_example(doc: dict[str, Any], server: ServeProcess) -> None:
    email = new_user(server)
    assert doc["fetch_status"](server.url, email, PASSWORD) == "not verified"
    wrong = doc["fetch_status"](server.url, email, "wrong password")
    assert wrong == "cannot sign in: WRONG_CREDENTIALS_ERROR"
    down = doc["fetch_status"](f"http://127.0.0.1:{free_port()}", email, PASSWORD)  # no one there
    assert down == "the service is unavailable, try again later"
