"""The frontend API of a real `tokenward serve` against the OpenAPI document it publishes, with
schemathesis: no request may get a 5xx, and every answer must be documented (its status, content
type, headers and body).

First each documented outcome is produced on purpose (sign-up, sign-in, wrong credentials, …), so
the success bodies are checked too; then every operation is fuzzed: valid requests (positive)
and, where there is something to break, invalid ones (negative), a fixed number of each,
derandomized so that every run sends the same requests. Session operations are fuzzed once
without a session and once carrying a live one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import FAST_HASHING
from tests.support.cli import clean_env, tokenward
from tests.support.server import ServeProcess

Operation = APIOperation[Any, Any, Any, Any]
AnyCase = Case[Any]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 25
"""Per operation and generation mode: about 1,100 requests in all."""
OPERATIONS = 49
EMAIL, PASSWORD = "fuzz@example.com", "a long enough passphrase"
# The rate limits stay on (their wrappers read the fuzzed bodies too) but are too high to refuse
# the fuzzer, so that the requests reach the endpoints.
HIGH_LIMITS = {
    f"rate_limit_{name}": 1_000_000
    for name in (
        "requests_per_ip",
        "refreshes_per_ip",
        "failed_sign_ins_per_ip",
        "emails_per_address",
        "emails_per_ip",
        "codes_per_contact",
        "codes_per_ip",
    )
}


@dataclass
class Api:
    url: str
    schema: BaseSchema
    output: Callable[[], str] = str
    """The server's output so far (where the console backends print codes)."""
    http: requests.Session = field(default_factory=requests.Session)
    sent: Counter[str] = field(default_factory=Counter)

    def operation(self, method: str, path: str) -> Operation:
        found: Operation = self.schema[path][method]
        return found

    def send(self, case: AnyCase) -> schemathesis.Response:
        """Send ``case`` and fail on anything the document does not allow."""
        response = case.call_and_validate(
            base_url=self.url, session=self.http, checks=CHECKS, timeout=10
        )
        self.sent[case.operation.label] += 1
        return response

    def call(self, method: str, path: str, **parts: Any) -> schemathesis.Response:
        return self.send(self.operation(method, path).Case(**parts))

    def sign_in(self) -> schemathesis.Response:
        return self.call(
            "POST", "/auth/signin", body=credentials(), headers={"rid": "emailpassword"}
        )


def credentials(password: str = PASSWORD) -> dict[str, Any]:
    return {"formFields": [{"id": "email", "value": EMAIL}, {"id": "password", "value": password}]}


def server_env(tmp_path: Path) -> dict[str, str]:
    database_url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    overrides = {"database_url": database_url, **FAST_HASHING, **HIGH_LIMITS}
    return clean_env(**{f"TOKENWARD_{k.upper()}": str(v) for k, v in overrides.items()})


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    tmp_path = tmp_path_factory.mktemp("fuzz")
    env = server_env(tmp_path)
    assert tokenward("migrate", cwd=tmp_path, env=env).returncode == 0
    with ServeProcess(tmp_path, env=env) as server:
        schema = schemathesis.openapi.from_url(f"{server.url}/auth/openapi.json")
        yield Api(server.url, schema, server.output)
        assert "Traceback" not in server.output()


def status(response: schemathesis.Response) -> Any:
    return response.json()["status"]


def header(response: schemathesis.Response, name: str) -> str:
    (value,) = response.headers[name]
    return value


def test_each_documented_outcome_conforms(api: Api) -> None:
    ep, bearer = {"rid": "emailpassword"}, "Bearer {}".format
    signed_up = api.call("POST", "/auth/signup", body=credentials(), headers=ep)
    assert status(signed_up) == "OK" and signed_up.json()["user"]["emails"] == [EMAIL]
    again = api.call("POST", "/auth/{tenant_id}/signup", body=credentials(), headers=ep,
                     path_parameters={"tenant_id": "public"})  # fmt: skip
    assert status(again) == "FIELD_ERROR"
    wrong = api.call("POST", "/auth/signin", body=credentials("not the password"), headers=ep)
    assert status(wrong) == "WRONG_CREDENTIALS_ERROR"
    in_cookies = api.call(
        "POST", "/auth/signin", body=credentials(), headers={**ep, "st-auth-mode": "cookie"}
    )
    assert status(in_cookies) == "OK" and "sAccessToken=ey" in str(in_cookies.headers["set-cookie"])
    api.http.cookies.clear()
    unknown_tenant = api.call(
        "POST", "/auth/{tenant_id}/signup", body=credentials(), headers=ep,
        path_parameters={"tenant_id": "nobody"},
    )  # fmt: skip
    assert unknown_tenant.status_code == 400
    exists = api.call("GET", "/auth/emailpassword/email/exists", query={"email": EMAIL})
    assert exists.json() == {"status": "OK", "exists": True}

    access = {"authorization": bearer(header(signed_up, "st-access-token"))}
    verified = api.call("GET", "/auth/user/email/verify", headers=access)
    assert verified.json() == {"status": "OK", "isVerified": False}
    sent = api.call("POST", "/auth/user/email/verify/token", headers={**access, "rid": "x"})
    assert status(sent) == "OK"
    bad_link = api.call("POST", "/auth/user/email/verify", body={"method": "token", "token": "x"})
    assert status(bad_link) == "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"
    email_only = {"formFields": [{"id": "email", "value": EMAIL}]}
    reset_link = api.call("POST", "/auth/user/password/reset/token", body=email_only)
    assert status(reset_link) == "OK"
    bad_reset = api.call(
        "POST", "/auth/user/password/reset",
        body={"token": "x", "formFields": [{"id": "password", "value": "a new passphrase"}]},
    )  # fmt: skip
    assert status(bad_reset) == "RESET_PASSWORD_INVALID_TOKEN_ERROR"

    passwordless_outcomes(api)

    refresh = {"authorization": bearer(header(signed_up, "st-refresh-token")), "rid": "session"}
    refreshed = api.call("POST", "/auth/session/refresh", headers=refresh)
    assert refreshed.json() == {}
    renewed = {"authorization": bearer(header(refreshed, "st-access-token")), "rid": "session"}
    assert status(api.call("POST", "/auth/signout", headers=renewed)) == "OK"
    assert api.call("POST", "/auth/signout", headers=renewed).status_code == 401
    assert api.call("POST", "/auth/session/refresh", headers=refresh).status_code == 401


def passwordless_outcomes(api: Api) -> None:
    pl = {"rid": "passwordless"}
    invalid = api.call("POST", "/auth/signinup/code", body={"email": "nope"}, headers=pl)
    assert status(invalid) == "GENERAL_ERROR"
    started = api.call("POST", "/auth/signinup/code", body={"email": "pl@example.com"}, headers=pl)
    assert status(started) == "OK"
    attempt = {k: started.json()[k] for k in ("deviceId", "preAuthSessionId")}
    resent = api.call("POST", "/auth/signinup/code/resend", body=attempt, headers=pl)
    assert status(resent) == "OK"
    wrong = api.call(
        "POST", "/auth/signinup/code/consume", headers=pl,
        body={**attempt, "userInputCode": "not a code"},
    )  # fmt: skip
    assert status(wrong) == "INCORRECT_USER_INPUT_CODE_ERROR"
    codes = re.findall(r"\b(\d{6}) is your .* sign-in code|code to sign in to .*:\s+(\d{6})",
                       api.output())  # fmt: skip
    typed = [a or b for a, b in codes][-1]
    done = api.call(
        "POST", "/auth/signinup/code/consume", headers=pl, body={**attempt, "userInputCode": typed}
    )
    assert status(done) == "OK" and done.json()["createdNewRecipeUser"] is True
    restart = api.call(
        "POST", "/auth/signinup/code/consume", headers=pl, body={**attempt, "userInputCode": typed}
    )
    assert status(restart) == "RESTART_FLOW_ERROR"
    exists = api.call(
        "GET", "/auth/passwordless/email/exists", query={"email": "pl@example.com"}, headers=pl
    )
    assert exists.json() == {"status": "OK", "exists": True}


def fuzz(api: Api, operation: Operation, mode: GenerationMode, **fixed: Any) -> None:
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: AnyCase) -> None:
        api.send(case)

    run()


def modes(operation: Operation) -> list[GenerationMode]:
    """Negative requests where there is something to break: a body, a path or query parameter
    (a header is any string)."""
    raw = operation.definition.raw
    breakable = "requestBody" in raw or any(p["in"] != "header" for p in raw["parameters"])
    return (
        [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        if breakable
        else [GenerationMode.POSITIVE]
    )


def has_inputs(operation: Operation) -> bool:
    """Whether there is more than one request to send (a GET without parameters has one)."""
    raw = operation.definition.raw
    return bool(raw["parameters"] or "requestBody" in raw or "security" in raw)


def live_session(api: Api, operation: Operation) -> dict[str, str]:
    """The headers of a fresh session: the refresh token for the refresh operation."""
    kind = "refresh" if "Refresh" in str(operation.definition.raw["security"]) else "access"
    token = header(api.sign_in(), f"st-{kind}-token")
    return {"authorization": f"Bearer {token}", "rid": "session"}


def test_fuzzing_finds_nothing_undocumented(api: Api) -> None:
    if status(api.sign_in()) != "OK":  # the account the sessions are made from
        api.call("POST", "/auth/signup", body=credentials())
    results = api.schema.get_all_operations()
    operations: list[Operation] = [result.ok() for result in results]  # type: ignore[union-attr]
    api.sent.clear()
    for operation in operations:
        for mode in modes(operation):
            fuzz(api, operation, mode)
        if "security" in operation.definition.raw:
            fuzz(api, operation, GenerationMode.POSITIVE, headers=live_session(api, operation))

    # Nothing was skipped: every documented operation was exercised, all but the constant ones
    # (no parameters) with a full run.
    documented = {op.label for op in operations}
    assert len(documented) == OPERATIONS, sorted(documented)
    assert set(api.sent) == documented
    assert all(api.sent[op.label] >= EXAMPLES for op in operations if has_inputs(op)), api.sent
