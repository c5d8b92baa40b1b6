"""The CDI routes `tokenward serve` offers so far (the rest of the core API comes with #9)."""

from __future__ import annotations

from starlette.routing import Route

from tokenward.http.cdi import session


def routes() -> list[Route]:
    return [
        Route("/recipe/session/verify", session.verify, methods=["POST"]),
        Route("/recipe/session/regenerate", session.regenerate, methods=["POST"]),
        Route("/recipe/session", session.get_session, methods=["GET"]),
        Route("/public/recipe/session", session.get_session, methods=["GET"]),
        Route("/recipe/session/remove", session.remove, methods=["POST"]),
        Route("/public/recipe/session/remove", session.remove, methods=["POST"]),
        Route("/recipe/session/data", session.put_data, methods=["PUT"]),
    ]
