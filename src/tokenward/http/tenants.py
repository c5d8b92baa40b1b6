"""The optional tenant segment of FDI paths: /auth/signin is /auth/public/signin."""

from __future__ import annotations

import re

from starlette.requests import Request

from tokenward.http.requests import BadRequest

DEFAULT_TENANT = "public"
TENANT_ID_PATTERN = r"[a-z0-9][a-z0-9-]{0,63}"
_TENANT_ID = re.compile(TENANT_ID_PATTERN)


def tenant_of(request: Request) -> str:
    tenant_id = request.path_params.get("tenant_id", DEFAULT_TENANT)
    if not isinstance(tenant_id, str) or not _TENANT_ID.fullmatch(tenant_id):
        raise BadRequest("Invalid tenant id")
    return tenant_id
