"""Figure 8: the social sign-in/up callback over HTTP (`tokenward serve`, ``POST /auth/signinup``
with the provider's redirect) against the floor endpoint (bench/floor_app.py), on SQLite and
PostgreSQL, with 1 and 2 server workers, both talking to the same local OpenID provider
(bench/oidc_provider.py, a process of its own).

Each request carries an authorisation code no request has used. Codes come in blocks of
``WINDOW`` new subjects, then the same subjects again: half the requests sign a new user up,
half sign in a user signed up ``WINDOW`` requests before (more than the connections, so a
subject is never in flight twice). Every run has subjects of its own, so each side signs up
its own users. wrk sends each body once (bench/lua/consume.lua).

The provider must not be the bottleneck: the group first measures the provider's token
endpoint alone under the same load, and each run reads the provider's CPU time before and
after (``GET /stats``); the notes give both."""

from __future__ import annotations

import json
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from tests.support.server import ServeProcess

from bench.common import Figure, progress
from bench.databases import DATABASES, SessionSeeder, bench_database
from bench.floor_rows import SOCIAL_USERS
from bench.load import Load, Result, better, consume_load, request_load
from bench.refresh import NAMES
from bench.servers import floor_server, oidc_provider, tokenward_server

PATH = "/auth/signinup"
RID = "thirdparty"
THIRD_PARTY_ID = "bench-oidc"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
WEBSITE = "http://localhost:3000"
REDIRECT_URI = f"{WEBSITE}/auth/callback/{THIRD_PARTY_ID}"
ROUNDS = 2
"""tokenward and the floor endpoint take turns this many times; the best run of each is
compared (as in figures 2 and 7)."""
WINDOW = 256
"""A subject signs in again this many requests after its sign-up."""
CODES_PER_SECOND = 3_000
"""Codes made per second of load: well above what either side serves on the 2-CPU machine of
docs/benchmarks.md (a run that uses them all is refused as starved)."""


@dataclass(frozen=True)
class Provider:
    """What the provider spent in the measured runs of one figure."""

    cpu_s: float = 0.0
    tokens: int = 0
    busiest: float = 0.0
    """The largest share of one CPU it took in a measured run."""

    def __add__(self, other: Provider) -> Provider:
        return Provider(
            self.cpu_s + other.cpu_s, self.tokens + other.tokens, max(self.busiest, other.busiest)
        )

    def describe(self) -> str:
        per_token = self.cpu_s / self.tokens * 1000 if self.tokens else float("nan")
        return f"{per_token:.2f} ms of CPU per token, at most {self.busiest:.0%} of one CPU"


def bodies(count: int) -> list[bytes]:
    """``count`` sign-in/up bodies, each with a code of its own (subject ``u<run>-<n>``)."""
    run = secrets.token_hex(4)
    made: list[bytes] = []
    block = 0
    while len(made) < count:
        subjects = [f"u{run}-{block * WINDOW + n}" for n in range(WINDOW)]
        for subject in subjects + subjects:
            query = {
                "code": f"{subject}.{secrets.token_urlsafe(16)}",
                "state": secrets.token_urlsafe(12),
            }
            body = {
                "thirdPartyId": THIRD_PARTY_ID,
                "redirectURIInfo": {
                    "redirectURIOnProviderDashboard": REDIRECT_URI,
                    "redirectURIQueryParams": query,
                },
            }
            made.append(json.dumps(body, separators=(",", ":")).encode())
        block += 1
    return made[:count]


def codes_for(seconds: float) -> int:
    return round(CODES_PER_SECOND * max(1, round(seconds)))


def _stats(provider: ServeProcess) -> tuple[float, int]:
    stats = httpx.get(f"{provider.url}/stats").json()
    return float(stats["cpu_s"]), int(stats["tokens"])


def social_run(server: ServeProcess, provider: ServeProcess, load: Load) -> tuple[Result, Provider]:
    """A warm-up on codes of its own, then ``load`` on fresh ones; what the provider spent."""
    if load.warmup_seconds:
        warmup = Load(load.connections, load.warmup_seconds, load.threads)
        consume_load(server.url, warmup, bodies(codes_for(warmup.seconds)), path=PATH, rid=RID)
    codes = bodies(codes_for(load.seconds))
    cpu_before, tokens_before = _stats(provider)
    result = consume_load(server.url, load, codes, path=PATH, rid=RID)
    cpu_after, tokens_after = _stats(provider)
    cpu_s = cpu_after - cpu_before
    return result, Provider(cpu_s, tokens_after - tokens_before, cpu_s / result.seconds)


def provider_alone(provider: ServeProcess, load: Load) -> Result:
    """The provider's token endpoint under ``load`` by itself: its capacity on this machine."""
    form = {
        "grant_type": "authorization_code",
        "code": "ualone.code",
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return request_load(provider.url, load, "POST", "/token", headers, urlencode(form).encode())


def _providers(provider: ServeProcess) -> str:
    return json.dumps(
        [
            {
                "thirdPartyId": THIRD_PARTY_ID,
                "clients": [{"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}],
                "oidcDiscoveryEndpoint": f"{provider.url}/.well-known/openid-configuration",
            }
        ]
    )


async def measure(load: Load, workers: tuple[int, ...] = (1, 2)) -> list[Figure]:
    figures = []
    with (
        tempfile.TemporaryDirectory(prefix="tokenward-bench-logs-") as logs,
        oidc_provider(CLIENT_ID, CLIENT_SECRET, Path(logs)) as provider,
    ):
        progress(f"social sign-in/up: the provider's token endpoint alone ({load.describe()})")
        alone = provider_alone(provider, load)
        progress(f"  {alone.describe()}")
        settings = {"thirdparty_providers": _providers(provider), "website_domain": WEBSITE}
        floor_env = {
            "SOCIAL_DISCOVERY": f"{provider.url}/.well-known/openid-configuration",
            "SOCIAL_CLIENT_ID": CLIENT_ID,
            "SOCIAL_CLIENT_SECRET": CLIENT_SECRET,
        }
        for kind in DATABASES:
            async with bench_database(kind) as url, SessionSeeder(url) as seeder:
                await seeder.execute(SOCIAL_USERS)
                for count in workers:
                    label = f"{NAMES[kind]}, {count} worker{'s' if count > 1 else ''}"
                    progress(f"social sign-in/up, {label}: tokenward ({load.describe()})")
                    ours: Result | None = None
                    floor: Result | None = None
                    spent = Provider()
                    for _ in range(ROUNDS):
                        with tokenward_server(url, count, Path(logs), **settings) as server:
                            run, used = social_run(server, provider, load)
                        ours, spent = better(ours, run), spent + used
                        progress(f"  {run.describe()}; floor endpoint")
                        with floor_server(url, count, Path(logs), **floor_env) as server:
                            run, used = social_run(server, provider, load)
                        floor, spent = better(floor, run), spent + used
                        progress(f"  {run.describe()}")
                    assert ours is not None and floor is not None
                    figures.append(
                        Figure(
                            f"Social sign-in/up callback over HTTP, {label}",
                            ours.describe(),
                            f"{floor.describe()} (floor endpoint)",
                            ours.ratio_to(floor),
                            "≥ 0.5",
                            f"wrk, {load.describe()}, each request a fresh code from the local "
                            f"OpenID provider, half sign-ups and half sign-ins; best of {ROUNDS} "
                            f"runs each, in turns. The provider (1 process): "
                            f"{spent.describe()} in these runs; alone it issued "
                            f"{alone.per_second:,.0f} tokens/s",
                        )
                    )
    return figures
