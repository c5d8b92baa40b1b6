"""Third-party FDI routes: the authorisation URL and the sign-in/up, as supertokens-web-js calls
them. The frontend makes and checks ``state`` (SuperTokens' protocol); the backend adds PKCE.

A provider that is down or answers garbage is a ``GENERAL_ERROR`` the user can retry ("not
answering right now"); an id token that fails a check, a code or an access token the provider
refuses (4xx) or a foreign redirect URI is a ``GENERAL_ERROR`` too ("did not confirm who you
are"), with a message that says what to do and nothing about the tokens."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tokenward.http.audit import audit
from tokenward.http.context import runtime
from tokenward.http.requests import BadRequest, json_body, read_body
from tokenward.http.sign_in import signed_in
from tokenward.http.tenants import tenant_of
from tokenward.recipes.thirdparty.rules.access_tokens import ForeignAccessToken
from tokenward.recipes.thirdparty.rules.authorisation import (
    BadCallback,
    MixedUpIssuer,
    RedirectNotAllowed,
    callback_return_url,
)
from tokenward.recipes.thirdparty.rules.providers import InvalidProviderConfig
from tokenward.recipes.thirdparty.rules.user_info import NoUserId, WrongHostedDomain
from tokenward.recipes.thirdparty.service.providers import UnknownProvider
from tokenward.recipes.thirdparty.service.sign_in import NoEmail, NoTokens, SignUpNotAllowed
from tokenward.shared.id_tokens import InvalidIdToken
from tokenward.shared.outbound_http import ProviderError, ProviderRefused

PROVIDER_DOWN = "The sign-in provider is not answering right now. Please try again."
PROVIDER_REFUSED = "The sign-in provider did not confirm who you are. Please try again."
REDIRECT_REFUSED = "This sign-in link does not belong to this website."
DOMAIN_REFUSED = "This account's organisation cannot sign in here. Please use your work account."
SIGN_UP_NOT_ALLOWED = (
    "Cannot sign in / up due to security reasons. Please try a different login method or "
    "contact support. (ERR_CODE_006)"
)


def _general(message: str) -> Response:
    return JSONResponse({"status": "GENERAL_ERROR", "message": message})


async def authorisation_url(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    q = request.query_params
    third_party_id, redirect_uri = q.get("thirdPartyId"), q.get("redirectURIOnProviderDashboard")
    if not third_party_id:
        raise BadRequest("Please provide the thirdPartyId as a GET param")
    if not redirect_uri:
        raise BadRequest("Please provide the redirectURIOnProviderDashboard as a GET param")
    try:
        built = await rt.services.thirdparty.authorisation_url(
            tenant_id, third_party_id, redirect_uri, q.get("clientType")
        )
    except UnknownProvider:
        raise BadRequest(
            f"the provider {third_party_id} could not be found in the configuration"
        ) from None
    except InvalidProviderConfig as invalid:
        raise BadRequest(str(invalid)) from None
    except RedirectNotAllowed:
        return _general(REDIRECT_REFUSED)
    except ProviderError:
        return _general(PROVIDER_DOWN)
    body: dict[str, Any] = {"status": "OK", "urlWithQueryParams": built.url}
    if built.pkce_code_verifier is not None:
        body["pkceCodeVerifier"] = built.pkce_code_verifier
    return JSONResponse(body)


async def sign_in_up(request: Request) -> Response:
    rt = runtime(request)
    tenant_id = tenant_of(request)
    data = await json_body(request)
    third_party_id = data.get("thirdPartyId")
    if not isinstance(third_party_id, str) or not third_party_id:
        raise BadRequest("Please provide the thirdPartyId in request body")
    client_type = data.get("clientType")
    if client_type is not None and not isinstance(client_type, str):
        raise BadRequest("clientType must be a string")
    redirect, tokens = data.get("redirectURIInfo"), data.get("oAuthTokens")
    if (redirect is None) == (tokens is None):
        raise BadRequest("Please provide one of redirectURIInfo or oAuthTokens in the request body")
    arguments: dict[str, Any]
    if redirect is not None:
        if (
            not isinstance(redirect, dict)
            or not isinstance(redirect.get("redirectURIOnProviderDashboard"), str)
            or not isinstance(redirect.get("redirectURIQueryParams"), dict)
        ):
            raise BadRequest(
                "Please provide redirectURIOnProviderDashboard and redirectURIQueryParams"
            )
        code = redirect["redirectURIQueryParams"].get("code")
        if not isinstance(code, str) or not code:
            return _general(PROVIDER_REFUSED)  # the provider sent the user back with an error
        verifier = redirect.get("pkceCodeVerifier")
        arguments = {
            "redirect_uri": redirect["redirectURIOnProviderDashboard"],
            "query": redirect["redirectURIQueryParams"],
            "pkce_verifier": verifier if isinstance(verifier, str) else None,
        }
    else:
        if not isinstance(tokens, dict):
            raise BadRequest("oAuthTokens must be an object")
        arguments = {"tokens": tokens}
    try:
        done = await rt.services.thirdparty.sign_in_up(
            tenant_id, third_party_id, client_type, **arguments
        )
    except UnknownProvider:
        raise BadRequest(
            f"the provider {third_party_id} could not be found in the configuration"
        ) from None
    except (InvalidProviderConfig, NoTokens) as invalid:
        raise BadRequest(str(invalid)) from None
    except RedirectNotAllowed:
        return _general(REDIRECT_REFUSED)
    except WrongHostedDomain as refused:
        audit(request, "sign_in.failure", tenant_id=tenant_id, reason=str(refused))
        return _general(DOMAIN_REFUSED)
    except NoEmail:
        return JSONResponse({"status": "NO_EMAIL_GIVEN_BY_PROVIDER"})
    except SignUpNotAllowed:
        audit(request, "sign_up.refused", tenant_id=tenant_id, reason=third_party_id)
        return JSONResponse({"status": "SIGN_IN_UP_NOT_ALLOWED", "reason": SIGN_UP_NOT_ALLOWED})
    except (
        InvalidIdToken,
        NoUserId,
        ForeignAccessToken,
        MixedUpIssuer,
        ProviderRefused,
    ) as refused:
        # ProviderRefused: a 4xx from the provider, e.g. a used, expired or forged code.
        audit(
            request, "sign_in.failure", tenant_id=tenant_id, reason=f"{third_party_id}: {refused}"
        )
        return _general(PROVIDER_REFUSED)
    except ProviderError as failed:
        audit(request, "sign_in.failure", tenant_id=tenant_id, reason=str(failed))
        return _general(PROVIDER_DOWN if failed.retryable else PROVIDER_REFUSED)
    return await signed_in(
        request,
        done.user,
        tenant_id,
        "sign_up" if done.created else "sign_in",
        form={"thirdPartyId": third_party_id},
        recipe_user_id=done.method.recipe_user_id,
        answer={"createdNewRecipeUser": done.created},
        known_verified={done.method.recipe_user_id: True} if done.email_verified else None,
    )


FORM = "application/x-www-form-urlencoded"


async def apple_callback(request: Request) -> Response:
    """``POST /callback/apple``: Apple posts the code and state through the browser
    (``response_mode=form_post``); the browser goes back (303) to the website's page named in
    the state, with them in the query, and the frontend finishes as after any redirect."""
    raw = await read_body(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if raw and content_type != FORM:
        raise BadRequest(f"The body must be {FORM}")
    try:
        fields = parse_qsl(raw.decode(), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The body must be a form") from None
    posted = dict(fields)
    website = runtime(request).settings.effective_website_domain
    try:
        location = callback_return_url(posted.get("state"), posted, [website])
    except (BadCallback, RedirectNotAllowed) as refused:
        raise BadRequest(str(refused)) from None
    return Response(status_code=303, headers={"Location": location})
