"""Figure 3: password sign-in throughput versus the Argon2id ceiling (CPUs ÷ one verification),
and figure 4: how fast session-verifying requests stay while sign-ins saturate the pool."""

from __future__ import annotations

import asyncio
import os
import time

import httpx
from argon2 import PasswordHasher as Argon2
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bench.common import Figure, median, percentile, progress, sqlite_settings
from tokenward.http.app import create_app
from tokenward.http.session_guard import require_session

PASSWORD = "a benchmark passphrase"


async def _me(request: Request) -> Response:
    """What every API request of an app pays: verifying its session (no database call)."""
    session = await require_session(request)
    return JSONResponse({"userId": session.user_id})


def _form(email: str) -> dict[str, object]:
    return {"formFields": [{"id": "email", "value": email}, {"id": "password", "value": PASSWORD}]}


async def measure(sign_ins: int, probes: int) -> list[Figure]:
    cpus = os.cpu_count() or 1
    hasher = Argon2(memory_cost=19456, time_cost=2, parallelism=1)
    stored = hasher.hash(PASSWORD)
    start = time.perf_counter()
    for _ in range(5):
        hasher.verify(stored, PASSWORD)
    single_s = (time.perf_counter() - start) / 5
    ceiling = cpus / single_s

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

                begin = time.perf_counter()
                flood = asyncio.gather(*(sign_in() for _ in range(sign_ins)))
                busy = await probe_latencies(probes)
                await flood
                elapsed = time.perf_counter() - begin
    throughput = sign_ins / elapsed
    return [
        Figure(
            "Password sign-in throughput (in-process HTTP, SQLite)",
            f"{throughput:.1f}/s",
            f"{ceiling:.1f}/s ceiling ({cpus} CPUs ÷ {single_s * 1000:.1f} ms Argon2id verify)",
            throughput / ceiling,
            "≥ 0.85",
            f"{sign_ins} sign-ins, all at once",
        ),
        Figure(
            "Isolation: p99 of session-verifying requests (ms)",
            f"{percentile(busy, 0.99) * 1000:.2f} ms during a sign-in flood",
            f"{percentile(idle, 0.99) * 1000:.2f} ms idle (median {median(idle) * 1000:.2f})",
            percentile(busy, 0.99) / percentile(idle, 0.99),
            "stays fast",
            f"{probes} requests each; hashing runs in a bounded pool off the event loop",
        ),
    ]
