"""The core API (CDI) routes `tokenward serve` offers. Tenant-scoped ones answer with and without
the ``/<tenantId>`` prefix (supertokens-python always sends it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokenward.http.cdi import accounts, meta, roles_metadata, session

Endpoint = Callable[[Request], Awaitable[Response]]


def _both(path: str, endpoint: Endpoint, method: str) -> list[Route]:
    return [
        Route(path, endpoint, methods=[method]),
        Route(f"/{{tenant_id}}{path}", endpoint, methods=[method]),
    ]


def routes() -> list[Route]:
    return [
        Route("/apiversion", meta.api_version, methods=["GET"]),
        *_both("/recipe/session", session.create, "POST"),
        Route("/recipe/session", session.get_session, methods=["GET"]),
        Route("/recipe/session/verify", session.verify, methods=["POST"]),
        Route("/recipe/session/refresh", session.refresh, methods=["POST"]),
        Route("/recipe/session/regenerate", session.regenerate, methods=["POST"]),
        *_both("/recipe/session/remove", session.remove, "POST"),
        *_both("/recipe/session/user", session.user_sessions, "GET"),
        Route("/recipe/session/data", session.put_data, methods=["PUT"]),
        Route("/recipe/jwt/data", session.put_jwt_data, methods=["PUT"]),
        *_both("/recipe/signup", accounts.sign_up, "POST"),
        *_both("/recipe/signin", accounts.sign_in, "POST"),
        Route("/recipe/user", accounts.update_user, methods=["PUT"]),
        *_both("/recipe/user/password/reset/token", accounts.reset_token, "POST"),
        *_both("/recipe/user/password/reset/token/consume", accounts.consume_reset_token, "POST"),
        *_both("/recipe/user/email/verify/token", accounts.verification_token, "POST"),
        *_both("/recipe/user/email/verify", accounts.verify_email, "POST"),
        Route("/recipe/user/email/verify", accounts.is_email_verified, methods=["GET"]),
        Route("/recipe/user/email/verify/remove", accounts.unverify_email, methods=["POST"]),
        Route("/user/id", accounts.user_by_id, methods=["GET"]),
        *_both("/users/by-accountinfo", accounts.users_by_account_info, "GET"),
        *_both("/users", accounts.list_users, "GET"),
        *_both("/users/count", accounts.count_users, "GET"),
        Route("/user/remove", accounts.remove_user, methods=["POST"]),
        *_both("/recipe/multitenancy/tenant/v2", accounts.tenant, "GET"),
        Route("/recipe/role", roles_metadata.put_role, methods=["PUT"]),
        Route("/recipe/role/permissions", roles_metadata.role_permissions, methods=["GET"]),
        Route(
            "/recipe/role/permissions/remove",
            roles_metadata.remove_role_permissions,
            methods=["POST"],
        ),
        Route("/recipe/permission/roles", roles_metadata.permission_roles, methods=["GET"]),
        Route("/recipe/role/remove", roles_metadata.remove_role, methods=["POST"]),
        Route("/recipe/roles", roles_metadata.all_roles, methods=["GET"]),
        *_both("/recipe/user/role", roles_metadata.add_user_role, "PUT"),
        *_both("/recipe/user/role/remove", roles_metadata.remove_user_role, "POST"),
        *_both("/recipe/user/roles", roles_metadata.user_roles, "GET"),
        *_both("/recipe/role/users", roles_metadata.role_users, "GET"),
        Route("/recipe/user/metadata", roles_metadata.get_metadata, methods=["GET"]),
        Route("/recipe/user/metadata", roles_metadata.update_metadata, methods=["PUT"]),
        Route("/recipe/user/metadata/remove", roles_metadata.remove_metadata, methods=["POST"]),
    ]
