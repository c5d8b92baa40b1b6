from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokenward.shared.encoding import (
    b64_decode,
    b64_encode,
    b64url_decode,
    b64url_encode,
    constant_time_equal,
    json_dumps,
    json_loads,
    json_loads_object,
    sha256_hex,
)


@given(st.binary(max_size=200))
def test_b64url_round_trip(data: bytes) -> None:
    text = b64url_encode(data)
    assert "=" not in text
    assert b64url_decode(text) == data


@given(st.binary(max_size=200))
def test_b64_round_trip(data: bytes) -> None:
    text = b64_encode(data)
    assert text == base64.b64encode(data).decode()
    assert b64_decode(text) == data


@given(st.text(alphabet="ABYZaqrz09-_+/= \né", max_size=12))
def test_b64url_decode_accepts_exactly_the_canonical_spellings(text: str) -> None:
    # Reference: the canonical spelling is the one that survives a round trip.
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == text
    except ValueError:
        canonical = False
    if canonical:
        assert b64url_decode(text) == raw
    else:
        with pytest.raises(ValueError):
            b64url_decode(text)


@pytest.mark.parametrize(
    "text",
    [
        "YQ==",  # padding
        "YQ=",
        "Y",  # impossible length
        "YR",  # non-canonical trailing bits ("YQ" is canonical for b"a")
        "Y+E",  # standard alphabet
        "Y/E",
        "Y Q",  # whitespace
        "YQ\n",
        "Y.Q",
        "YÉ",  # non-ASCII
    ],
)
def test_b64url_decode_rejects_non_canonical(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_b64url_decode_accepts_every_valid_length() -> None:
    assert b64url_decode("") == b""
    assert b64url_decode("YQ") == b"a"
    assert b64url_decode("YWI") == b"ab"
    assert b64url_decode("YWJj") == b"abc"
    assert b64url_decode("-_8") == b"\xfb\xff"


@pytest.mark.parametrize("text", ["YQ", "YR==", "YQ= =", "Y-E=", "YQ==\n", "YQ==YQ=="])
def test_b64_decode_rejects_non_canonical(text: str) -> None:
    with pytest.raises(ValueError):
        b64_decode(text)


def test_json_dumps_is_compact_and_optionally_sorted() -> None:
    assert json_dumps({"b": 1, "a": [1, 2]}) == '{"b":1,"a":[1,2]}'
    assert json_dumps({"b": 1, "a": 2}, sort_keys=True) == '{"a":2,"b":1}'
    assert json_dumps({"x": "é"}) == '{"x":"é"}'
    assert json_dumps({"x": "é"}, ascii_only=True) == '{"x":"\\u00e9"}'


def test_json_dumps_refuses_nan() -> None:
    with pytest.raises(ValueError):
        json_dumps({"x": float("nan")})


@pytest.mark.parametrize(
    "text",
    [
        '{"a":1,"a":2}',
        '{"a":{"b":1,"b":1}}',  # nested duplicates too
        '{"a":NaN}',
        '{"a":Infinity}',
        '{"a":-Infinity}',
        '{"a":1e999}',
        "{",
        '{"a":1} x',
        "[" * 100_000 + "]" * 100_000,
        "1" * 5000,  # int conversion limit
    ],
)
def test_json_loads_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        json_loads(text)


def test_json_loads_rejects_invalid_utf8() -> None:
    with pytest.raises(ValueError):
        json_loads(b'{"a":"\xff"}')


@pytest.mark.parametrize("text", ["[]", "1", '"x"', "null", "true"])
def test_json_loads_object_requires_object(text: str) -> None:
    with pytest.raises(ValueError):
        json_loads_object(text)


def test_json_loads_object_accepts_bytes_and_str() -> None:
    assert json_loads_object(b'{"a":1.5}') == {"a": 1.5}
    assert json_loads_object('{"a":[1,{"b":null}]}') == {"a": [1, {"b": None}]}


def test_sha256_hex_matches_hashlib_on_utf8() -> None:
    assert sha256_hex("abc") == hashlib.sha256(b"abc").hexdigest()
    assert sha256_hex("é") == hashlib.sha256("é".encode()).hexdigest()
    assert sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_constant_time_equal() -> None:
    assert constant_time_equal("ab12", "ab12")
    assert not constant_time_equal("ab12", "ab13")
    assert not constant_time_equal("ab12", "ab1")
    assert not constant_time_equal("é", "e")  # non-ASCII does not raise
