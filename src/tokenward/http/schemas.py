"""The bodies of the frontend API (FDI) as pydantic models, from which ``http.openapi`` generates
the OpenAPI document. Field names are the protocol's (camelCase, as the SDKs send and read them).

Request models describe what a well-behaved frontend sends; the handlers ignore properties they
do not know at the top level, so request schemas allow them. Response models forbid extra
properties: a field the handlers add without documenting it fails the fuzzing test.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema


class Reply(BaseModel):
    """A response body: exactly these properties."""

    model_config = ConfigDict(extra="forbid")


# --- requests -------------------------------------------------------------------------------

NonEmpty = Annotated[str, Field(min_length=1)]


# A field without a value (or a null one) counts as left empty.


CREDENTIALS = ("email", "password")
"""The form fields of email/password sign-up and sign-in."""


class FormField(BaseModel):
    id: str = Field(description="email, password, or one of the app's own sign-up fields")
    value: str | None = None


# --- the user object ------------------------------------------------------------------------


class ThirdParty(Reply):
    id: str
    userId: str


class LoginMethod(Reply):
    recipeId: str = Field(examples=["emailpassword"])
    recipeUserId: str
    tenantIds: list[str]
    timeJoined: int = Field(description="Milliseconds since the epoch")
    verified: bool
    # Present only when the login method has one (never null).
    email: str | SkipJsonSchema[None] = None
    phoneNumber: str | SkipJsonSchema[None] = None
    thirdParty: ThirdParty | SkipJsonSchema[None] = None


class WebAuthn(Reply):
    credentialIds: list[str]


class User(Reply):
    id: str
    isPrimaryUser: bool
    tenantIds: list[str]
    timeJoined: int = Field(description="Milliseconds since the epoch")
    emails: list[str]
    phoneNumbers: list[str]
    thirdParty: list[ThirdParty]
    webauthn: WebAuthn
    loginMethods: list[LoginMethod]


# --- status-discriminated outcomes (HTTP 200) ------------------------------------------------


class StatusOK(Reply):
    status: Literal["OK"]


class SignedIn(Reply):
    status: Literal["OK"]
    user: User


class FieldErrorItem(Reply):
    id: str
    error: str


class FieldError(Reply):
    status: Literal["FIELD_ERROR"]
    formFields: list[FieldErrorItem]


class GeneralError(Reply):
    status: Literal["GENERAL_ERROR"]
    message: str


class OpenApiDocument(BaseModel):
    """An OpenAPI 3.1 document (this one)."""

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]


# --- errors (not 200) -----------------------------------------------------------------------


class Message(Reply):
    """400, 401, 413, 429 and 503 bodies: a message for people, never internals."""

    message: str


class ClaimValidationError(Reply):
    id: str = Field(description="The claim: st-ev, st-role, st-perm, st-mfa, …")
    reason: dict[str, Any] | None = None


class Refused(Reply):
    """403: a cross-origin request, or a session that fails a claim (``invalid claim``, with
    ``claimValidationErrors``: the frontends read them to send the user on, e.g. to MFA)."""

    message: str
    claimValidationErrors: list[ClaimValidationError] | SkipJsonSchema[None] = None
