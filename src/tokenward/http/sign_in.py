"""The answer to a successful sign-in or sign-up, whatever the login recipe: the shared use case
(``app.sign_in.finish_sign_in``) starts the session (claims, audit, hooks), and its tokens go
onto the response in the mode the request asked for."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.app.sign_in import Client, How, finish_sign_in
from tokenward.http.audit import address
from tokenward.http.context import runtime, token_writes
from tokenward.recipes.users.port import UserRecord
from tokenward.recipes.users.wire import user_json


async def signed_in(
    request: Request,
    user: UserRecord,
    tenant_id: str,
    how: How,
    *,
    form: Mapping[str, str] | None = None,
    recipe_user_id: str | None = None,
    answer: Mapping[str, Any] | None = None,
    known_verified: Mapping[str, bool] | None = None,
    factor: str | None = None,
) -> Response:
    """``{"status": "OK", "user": …}`` (plus ``answer``) with a new session's tokens. ``form``
    is what the hooks see of the submitted form: never pass a password. ``known_verified``:
    and ``factor`` as ``finish_sign_in``'s."""
    rt = runtime(request)
    session = await finish_sign_in(
        rt.services,
        rt.hooks,
        rt.clock,
        user=user,
        tenant_id=tenant_id,
        how=how,
        client=Client(address(request), request.headers.get("user-agent")),
        form=form,
        recipe_user_id=recipe_user_id,
        known_verified=known_verified,
        factor=factor,
    )
    mode = rt.transport.creation_mode(request)
    token_writes(request).add(
        lambda headers: rt.transport.attach_tokens(request, headers, session.tokens, mode)
    )
    body = {"status": "OK", **(answer or {}), "user": user_json(user, session.verified)}
    return JSONResponse(body)
