"""GET /hello over real HTTP semantics, in-process, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from tokenward.app.server import create_app
from tokenward.config import load_settings


async def test_hello_answers_while_the_database_is_usable(database_url: str) -> None:
    app = create_app(load_settings(overrides={"database_url": database_url}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/hello")
            assert (response.status_code, response.text) == (200, "Hello")
            assert (await client.post("/hello")).status_code == 405
            assert (await client.get("/nope")).status_code == 404
