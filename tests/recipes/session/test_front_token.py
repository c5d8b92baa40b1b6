"""front-token: what the frontend SDKs decode with atob + JSON.parse."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenward.recipes.session.rules import front_token

PAYLOAD = {
    "sub": "user-1",
    "exp": 1_700_003_600,
    "iat": 1_700_000_000,
    "parentRefreshTokenHash1": None,
    "st-role": {"v": ["admin"], "t": 1_700_000_000_000},
    "name": "Zoë ☃",
}


def test_is_standard_padded_base64_of_sorted_compact_json() -> None:
    value = front_token.encode("user-1", 1_700_003_600_000, PAYLOAD)
    raw = base64.b64decode(value, validate=True)
    assert base64.b64encode(raw).decode() == value  # padded, standard alphabet
    text = raw.decode("utf-8")
    assert text.startswith('{"ate":1700003600000,"uid":"user-1","up":{"exp":1700003600,')
    assert ", " not in text and '": ' not in text
    assert json.loads(text) == {"uid": "user-1", "ate": 1_700_003_600_000, "up": PAYLOAD}


def test_matches_the_python_sdk_byte_for_byte() -> None:
    document = {"uid": "user-1", "ate": 1_700_003_600_000, "up": PAYLOAD}
    expected = base64.b64encode(
        json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    ).decode()
    assert front_token.encode("user-1", 1_700_003_600_000, PAYLOAD) == expected


def test_frontend_style_decode() -> None:
    value = front_token.encode("ユーザー", 1000, {"x": "é"})
    # decodeURIComponent(escape(atob(v))) == UTF-8 decode of the base64 bytes.
    assert json.loads(base64.b64decode(value).decode("utf-8"))["uid"] == "ユーザー"


@given(
    st.text(max_size=30),
    st.integers(min_value=0, max_value=2**53),
    st.dictionaries(st.text(max_size=10), st.none() | st.booleans() | st.text(max_size=10)),
)
def test_round_trip(user_id: str, expiry_ms: int, payload: dict[str, object]) -> None:
    decoded = front_token.decode(front_token.encode(user_id, expiry_ms, payload))
    assert decoded == front_token.FrontToken(user_id, expiry_ms, payload)


@pytest.mark.parametrize(
    "value",
    [
        front_token.REMOVE,
        "",
        base64.b64encode(b'{"uid":"u","ate":1}').decode(),
        base64.b64encode(b'{"uid":1,"ate":1,"up":{}}').decode(),
        base64.b64encode(b'{"uid":"u","ate":"1","up":{}}').decode(),
        base64.b64encode(b'{"uid":"u","ate":1,"up":[]}').decode(),
        base64.b64encode(b'{"uid":"u","ate":1,"up":{},"x":1}').decode(),
    ],
)
def test_decode_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        front_token.decode(value)


def test_decode_rejects_url_safe_alphabet() -> None:
    value = front_token.encode("???", 0, {})
    assert "/" in value and value.endswith("=")
    with pytest.raises(ValueError):
        front_token.decode(value.replace("/", "_").replace("+", "-"))
    with pytest.raises(ValueError):
        front_token.decode(value.rstrip("="))


def test_remove_constant() -> None:
    assert front_token.REMOVE == "remove"
