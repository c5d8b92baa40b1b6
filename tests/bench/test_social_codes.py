"""Figure 8's codes: half sign-ups, half sign-ins of subjects signed up a window before."""

from __future__ import annotations

import json
from typing import Any

from bench.social import REDIRECT_URI, THIRD_PARTY_ID, WINDOW, bodies


def _code(body: dict[str, Any]) -> str:
    return str(body["redirectURIInfo"]["redirectURIQueryParams"]["code"])


def _subject(body: dict[str, Any]) -> str:
    return _code(body).split(".", 1)[0]  # what bench/oidc_provider.py makes the sub


def test_each_subject_signs_up_then_in_once_a_window_later() -> None:
    made = [json.loads(body) for body in bodies(3 * WINDOW)]
    assert len(made) == 3 * WINDOW
    assert len({_code(body) for body in made}) == len(made), "a code of its own each"
    subjects = [_subject(body) for body in made]
    assert subjects[:WINDOW] == subjects[WINDOW : 2 * WINDOW]
    assert len(set(subjects[:WINDOW])) == WINDOW
    assert not set(subjects[2 * WINDOW :]) & set(subjects[:WINDOW])
    assert {body["thirdPartyId"] for body in made} == {THIRD_PARTY_ID}
    redirects = {body["redirectURIInfo"]["redirectURIOnProviderDashboard"] for body in made}
    assert redirects == {REDIRECT_URI}


def test_every_run_has_subjects_of_its_own() -> None:
    first, second = (json.loads(bodies(1)[0]) for _ in range(2))
    assert _subject(first) != _subject(second)
