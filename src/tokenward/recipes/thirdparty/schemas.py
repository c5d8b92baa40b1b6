"""The third-party recipe's FDI bodies (for the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from tokenward.http.schemas import GeneralError, Reply, User


class RedirectUriInfo(BaseModel):
    redirectURIOnProviderDashboard: str
    redirectURIQueryParams: dict[str, Any] = Field(description="The provider's redirect query")
    pkceCodeVerifier: str | None = None


class SignInUpRequest(BaseModel):
    thirdPartyId: str
    clientType: str | None = None
    redirectURIInfo: RedirectUriInfo | None = Field(default=None, description="Or oAuthTokens")
    oAuthTokens: dict[str, Any] | None = Field(
        default=None, description="Tokens a native app holds: id_token and/or access_token"
    )
    shouldTryLinkingWithSessionUser: bool | None = None


class AuthorisationUrl(Reply):
    status: Literal["OK"]
    urlWithQueryParams: str
    pkceCodeVerifier: str | SkipJsonSchema[None] = None


class SignedInUp(Reply):
    status: Literal["OK"]
    createdNewRecipeUser: bool
    user: User


class NoEmail(Reply):
    status: Literal["NO_EMAIL_GIVEN_BY_PROVIDER"]


class SignInUpNotAllowed(Reply):
    status: Literal["SIGN_IN_UP_NOT_ALLOWED"]
    reason: str


class AuthorisationUrlResponse(
    RootModel[Annotated[AuthorisationUrl | GeneralError, Field(discriminator="status")]]
):
    pass


class SignInUpResponse(
    RootModel[
        Annotated[
            SignedInUp | NoEmail | SignInUpNotAllowed | GeneralError,
            Field(discriminator="status"),
        ]
    ]
):
    pass


class ProviderCallbackForm(BaseModel):
    """What Apple posts through the browser (``form_post``); every field goes on to the
    website's page in its query."""

    state: str = Field(description="base64 of the frontend's JSON, with frontendRedirectURI")
    code: str | None = None
