"""Figure 3: password sign-in throughput versus the Argon2id ceiling (CPUs ÷ one verification),
with a floor endpoint doing only a sign-in's unavoidable work beside it; and figure 4: how
fast session-verifying requests stay while sign-ins saturate the pool.

Figure 3 loads `tokenward serve` with wrk, as figure 2 does: an in-process client would take
CPU from the hashing threads it is measuring. Figure 4 needs no throughput and stays in
process, where it can time each verifying request beside the flood."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from argon2 import PasswordHasher as Argon2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bench.common import Figure, median, percentile, progress, sqlite_settings
from bench.databases import bench_database
from bench.load import Load, Result, better, sign_in_load
from bench.servers import floor_server, tokenward_server
from tokenward.app.server import create_app
from tokenward.recipes.session.request_session import require_session

PASSWORD = "a benchmark passphrase"


async def _me(request: Request) -> Response:
    """What every API request of an app pays: verifying its session (no database call)."""
    session = await require_session(request)
    return JSONResponse({"userId": session.user_id})


def _form(email: str) -> dict[str, object]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}


ROUNDS = 3
"""Figure 3 alternates this many times between verifying alone and a load run of the same
length, and compares the best of each: a busy moment on a shared machine slows both sides
alike, and both bests are averages over equally long stretches."""


def _verify_time_s(hasher: Argon2, stored: str, seconds: float) -> float:
    """One Argon2id verification with tokenward's default parameters: the mean over
    ``seconds`` of verifying back to back, after one untimed (whose memory the allocator may
    have to fault in afresh)."""
    hasher.verify(stored, PASSWORD)
    count = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        hasher.verify(stored, PASSWORD)
        count += 1
    return elapsed / count


def _verify_time_all_cpus_s(hasher: Argon2, stored: str, seconds: float, cpus: int) -> float:
    """One verification's time while every CPU verifies at once, as under a sign-in load (the
    ceiling assumes they do not slow each other down; they share the memory bus)."""
    with ThreadPoolExecutor(cpus) as pool:
        times = list(pool.map(lambda _: _verify_time_s(hasher, stored, seconds), range(cpus)))
    return sum(times) / len(times)


async def throughput(load: Load, accounts: int) -> Figure:
    """Figure 3: sign-ins per second of `tokenward serve` (one worker, SQLite, rate limits on
    with per-address limits far above the load), spread over ``accounts`` accounts; and of
    the floor endpoint (bench/floor_app.py) on the same accounts, in turns with it."""
    cpus = os.cpu_count() or 1
    hasher = Argon2(memory_cost=19456, time_cost=2, parallelism=1)
    stored = hasher.hash(PASSWORD)
    bodies = [json.dumps(_form(f"runner-{n}@example.com")).encode() for n in range(accounts)]
    single_s = all_cpus_s = float("inf")
    best: Result | None = None
    floor: Result | None = None
    async with bench_database("sqlite") as url:
        with tempfile.TemporaryDirectory(prefix="tokenward-bench-logs-") as logs:
            limits = {"rate_limit_failed_sign_ins_per_ip": "1000000000"}
            with (
                tokenward_server(url, 1, Path(logs), **limits) as server,
                floor_server(url, 1, Path(logs)) as floor_endpoint,
            ):
                progress(f"signing up {accounts} accounts")
                async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                    for body in bodies:
                        answer = await client.post(
                            "/auth/signup",
                            content=body,
                            headers={"content-type": "application/json"},
                        )
                        assert answer.json()["status"] == "OK", answer.text
                for round_ in range(ROUNDS):
                    if round_:
                        await asyncio.sleep(1)  # the sign-ins wrk left in flight finish
                    progress(f"verifying alone for {load.seconds:g} s")
                    verify_s = _verify_time_s(hasher, stored, load.seconds)
                    progress(f"  one Argon2id verification: {verify_s * 1000:.1f} ms")
                    single_s = min(single_s, verify_s)
                    together_s = _verify_time_all_cpus_s(hasher, stored, load.seconds / 2, cpus)
                    progress(f"  all {cpus} CPUs verifying at once: {together_s * 1000:.1f} ms")
                    all_cpus_s = min(all_cpus_s, together_s)
                    progress(f"sign-ins over {accounts} accounts ({load.describe()})")
                    # The first runs' warm-ups serve the later ones too.
                    run_load = load if round_ == 0 else dataclasses.replace(load, warmup_seconds=0)
                    result = sign_in_load(server.url, run_load, bodies)
                    progress(f"  {result.describe()}; floor endpoint")
                    best = better(best, result)
                    await asyncio.sleep(1)
                    result = sign_in_load(floor_endpoint.url, run_load, bodies)
                    progress(f"  {result.describe()}")
                    floor = better(floor, result)
    assert best is not None and floor is not None
    ceiling = cpus / single_s
    return Figure(
        "Password sign-in throughput (tokenward serve, 1 worker, SQLite)",
        best.describe(),
        f"{ceiling:.1f}/s ceiling ({cpus} CPUs ÷ {single_s * 1000:.1f} ms Argon2id verify)",
        best.per_second / ceiling,
        "≥ 0.85",
        f"wrk, {load.describe()}, {accounts} accounts in turn; best of {ROUNDS} runs, each after "
        f"{load.seconds:g} s of verifications alone, against the best of those; with all "
        f"{cpus} CPUs verifying at once, one verification took {all_cpus_s * 1000:.1f} ms. "
        f"Floor endpoint (lookup, verification, session insert, signature; best of {ROUNDS} "
        f"runs, in turns): {floor.describe()}, {floor.per_second / ceiling:.2f} of the "
        f"ceiling; tokenward makes {best.ratio_to(floor):.2f} of its throughput",
    )


async def isolation(sign_ins: int, probes: int) -> Figure:
    """Figure 4: the p99 of session-verifying requests, idle and during a sign-in flood."""

    # Rate limits off: the flood is one account signing in from one address, on purpose.
    async with sqlite_settings(rate_limiting=False) as settings:
        app = create_app(settings)
        app.add_route("/bench/me", _me, methods=["GET"])
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                created = await client.post("/auth/signup", json=_form("runner@example.com"))
                access = created.headers["st-access-token"]
                auth = {"authorization": f"Bearer {access}"}

                async def probe_latencies(count: int) -> list[float]:
                    samples = []
                    for _ in range(count):
                        begin = time.perf_counter()
                        response = await client.get("/bench/me", headers=auth)
                        samples.append(time.perf_counter() - begin)
                        assert response.status_code == 200
                    return samples

                progress(f"{probes} verifying requests, idle")
                idle = await probe_latencies(probes)

                progress(f"{sign_ins} concurrent sign-ins, with verifying requests alongside")

                async def sign_in() -> None:
                    answer = await client.post("/auth/signin", json=_form("runner@example.com"))
                    assert answer.json()["status"] == "OK"

                flood = asyncio.gather(*(sign_in() for _ in range(sign_ins)))
                busy = await probe_latencies(probes)
                await flood
    return Figure(
        "Isolation: p99 of session-verifying requests (ms)",
        f"{percentile(busy, 0.99) * 1000:.2f} ms during a sign-in flood",
        f"{percentile(idle, 0.99) * 1000:.2f} ms idle (median {median(idle) * 1000:.2f})",
        percentile(busy, 0.99) / percentile(idle, 0.99),
        "stays fast",
        f"{probes} requests each, during {sign_ins} sign-ins in process; hashing runs in a "
        "bounded pool off the event loop",
    )
