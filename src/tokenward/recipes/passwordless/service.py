"""Passwordless sign-in: send a code (and/or a link) to an email or phone, then take it back.

Plain values in and out. A consumed code yields the user to sign in; the caller finishes the
sign-in with ``app.sign_in.finish_sign_in``. Answers never depend on whether an account exists
(unless the app restricts sign-ups with a hook, which then has to say so).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from tokenward.recipes.passwordless.port import (
    Accepted,
    CodeCollision,
    Contact,
    DeviceRecord,
    LinkCode,
    NewCode,
    PasswordlessStore,
    Proof,
    Refused,
    TypedCode,
)
from tokenward.recipes.passwordless.rules import (
    Code,
    ContactMethod,
    FlowType,
    InvalidDeviceId,
    code_for,
    flow_for,
    link_code_hash,
    magic_link,
    new_device,
    new_user_input_code,
    pre_auth_session_id,
)
from tokenward.recipes.users.port import UserStore
from tokenward.shared.clock import Clock
from tokenward.shared.email_delivery import EmailDeliveryError, EmailSender
from tokenward.shared.email_templates import human_duration, sign_in_email
from tokenward.shared.emails import email_error, normalise_email
from tokenward.shared.phone_numbers import INVALID_PHONE, normalise_phone
from tokenward.shared.sms_delivery import SmsDeliveryError, SmsMessage, SmsSender

MAX_CODE_TRIES = 3
"""New user input codes tried before giving up when each collides with an existing one."""

SignUpCheck = Callable[[str, Contact], Awaitable[bool]]
"""(tenant id, contact) → whether a new user may sign up with this contact."""
Purpose = Literal["sign_in", "second_factor", "check"]
"""What a code is for: signing in (or up), a second factor of a signed-in user (codes only, no
magic link; nobody signs in), or a check that changes nothing."""


class InvalidContact(ValueError):
    """The email or phone number is malformed, or not a contact method this app takes. The
    message is the one to show (``Email is not valid``, ``Phone number is invalid``)."""


class RestartFlow(Exception):
    """The device is unknown, used up or gone: the user must ask for a new code."""


class DeliveryFailed(Exception):
    """The email or SMS could not be sent. Retryable; the code that was not sent is removed."""


class SignUpNotAllowed(Exception):
    """The app's sign-up check refused a new user with this contact."""


class CodeNotGenerated(Exception):
    """Every new user input code collided with an existing one of the device."""


@dataclass(frozen=True, slots=True)
class CodePolicy:
    flow_type: FlowType
    contact_method: ContactMethod
    code_lifetime_ms: int
    max_attempts: int
    app_name: str
    website: str
    """The website's origin and base path, where the ``/verify`` page of magic links is."""


@dataclass(frozen=True, slots=True)
class CreatedCode:
    device_id: str
    pre_auth_session_id: str
    code_id: str
    user_input_code: str
    link_code: str
    time_created: int
    code_lifetime_ms: int


class Passwordless:
    def __init__(
        self,
        store: PasswordlessStore,
        users: UserStore,
        mail: EmailSender,
        sms: SmsSender,
        policy: CodePolicy,
        clock: Clock,
        *,
        sign_up_check: SignUpCheck | None = None,
    ) -> None:
        self._store = store
        self._users = users
        self._mail = mail
        self._sms = sms
        self.policy = policy
        self._clock = clock
        self._sign_up_check = sign_up_check

    # --- input -----------------------------------------------------------------------------

    def contact(
        self, email: str | None, phone_number: str | None, *, any_method: bool = False
    ) -> Contact:
        """The normalised contact of a request that gave exactly one of the two. Raises
        InvalidContact when it is malformed or (unless ``any_method``: the core API, whose
        SDK has its own configuration) the app does not take that kind."""
        method = None if any_method else self.policy.contact_method
        if email is not None:
            if method is not None and not method.takes_email:
                raise InvalidContact("Sign-in by email is not enabled")
            email = normalise_email(email)
            if (message := email_error(email)) is not None:
                raise InvalidContact(message)
            return Contact(email=email)
        if phone_number is None:
            raise InvalidContact("Please provide an email or a phone number")
        if method is not None and not method.takes_phone:
            raise InvalidContact("Sign-in by phone is not enabled")
        normalised = normalise_phone(phone_number)
        if normalised is None:
            raise InvalidContact(INVALID_PHONE)
        return Contact(phone_number=normalised)

    # --- codes -----------------------------------------------------------------------------

    async def create_code(
        self,
        tenant_id: str,
        contact: Contact,
        user_input_code: str | None = None,
        *,
        second_factor: bool = False,
    ) -> CreatedCode:
        """A new device for ``contact`` with its first code (nothing is sent). Raises
        UnknownTenant, or CodeCollision for a custom code that is taken."""
        for _ in range(MAX_CODE_TRIES):
            device = new_device()
            typed = user_input_code or new_user_input_code()
            code = code_for(device.device_id, device.link_code_salt, typed)
            new = self._new_code(code)
            try:
                await self._store.create_device(
                    tenant_id,
                    device.pre_auth_session_id,
                    contact,
                    link_code_salt=device.link_code_salt,
                    code=new,
                    second_factor=second_factor,
                )
            except CodeCollision:
                continue  # a fresh device gives a fresh link code, even for the same typed code
            return self._created(device.device_id, code, new)
        raise CodeNotGenerated("could not make a unique code")

    async def create_code_for_device(
        self, tenant_id: str, device_id: str, user_input_code: str | None = None
    ) -> CreatedCode:
        """Another code for an existing device (the resend). Raises RestartFlow when the
        device is unknown, CodeCollision when a custom code is taken."""
        device = await self._device(tenant_id, device_id)
        tries = 1 if user_input_code is not None else MAX_CODE_TRIES
        for _ in range(tries):
            typed = user_input_code or new_user_input_code()
            code = code_for(device_id, device.link_code_salt, typed)
            new = self._new_code(code)
            try:
                added = await self._store.add_code(tenant_id, device.pre_auth_session_id, new)
            except CodeCollision:
                if user_input_code is not None:
                    raise
                continue
            if not added:
                raise RestartFlow("the device is gone")
            return self._created(device_id, code, new)
        raise CodeNotGenerated("could not make a unique code")

    async def start(
        self, tenant_id: str, contact: Contact, purpose: Purpose = "sign_in"
    ) -> tuple[CreatedCode, FlowType]:
        """Create a code for ``contact`` and send it. Raises SignUpNotAllowed, or
        DeliveryFailed (and then no code is left behind). A second factor's message carries
        a code only: it is typed into the signed-in browser."""
        check = self._sign_up_check
        if (
            purpose == "sign_in"
            and check is not None
            and not await self._exists(tenant_id, contact)
            and not await check(tenant_id, contact)
        ):
            raise SignUpNotAllowed("sign-up refused by the app")
        second_factor = purpose == "second_factor"
        created = await self.create_code(tenant_id, contact, second_factor=second_factor)
        flow = self._flow(second_factor)
        try:
            await self._send(tenant_id, contact, created, flow)
        except DeliveryFailed:
            await self._store.remove_device(tenant_id, created.pre_auth_session_id)
            raise
        return created, flow

    async def resend(self, tenant_id: str, device_id: str, pre_auth_session_id: str) -> None:
        """Send a new code for the device. Raises RestartFlow or DeliveryFailed (and then the
        new code is removed; the earlier ones still work)."""
        if not _names(device_id, pre_auth_session_id):
            raise RestartFlow("the device id does not match the sign-in attempt")
        device = await self._device(tenant_id, device_id)
        contact = Contact(email=device.email, phone_number=device.phone_number)
        method = self.policy.contact_method
        if (contact.email and not method.takes_email) or (
            contact.phone_number and not method.takes_phone
        ):
            raise RestartFlow("this contact method is no longer enabled")
        created = await self.create_code_for_device(tenant_id, device_id)
        try:
            await self._send(tenant_id, contact, created, self._flow(device.second_factor))
        except DeliveryFailed:
            await self._store.remove_code(tenant_id, created.code_id)
            raise

    async def consume(
        self,
        tenant_id: str,
        pre_auth_session_id: str,
        *,
        link_code: str | None = None,
        device_id: str | None = None,
        user_input_code: str | None = None,
        purpose: Purpose = "sign_in",
    ) -> Accepted | Refused:
        """Use a code, presented by its link code or by the device id and the typed code:
        to sign in (the user is found or created), as a second factor (the code is spent,
        nobody signs in) or to check it (nothing changes)."""
        proof: Proof
        if link_code is not None:
            hashed = link_code_hash(link_code)
            if hashed is None:
                return Refused("restart")
            proof = LinkCode(hashed)
        else:
            if device_id is None or user_input_code is None:
                raise ValueError("a code is a link code, or a device id and a typed code")
            if not _names(device_id, pre_auth_session_id):
                return Refused("restart")
            proof = TypedCode(device_id, user_input_code)
        return await self._store.consume(
            tenant_id,
            pre_auth_session_id,
            proof,
            now=self._clock.now_ms(),
            max_attempts=self.policy.max_attempts,
            new_user_id=str(uuid.uuid4()) if purpose == "sign_in" else None,
            use_up=purpose != "check",
            second_factor=purpose == "second_factor",
        )

    async def exists(self, tenant_id: str, contact: Contact) -> bool:
        return await self._exists(tenant_id, contact)

    # --- devices, for the core API -----------------------------------------------------------

    async def device(self, tenant_id: str, pre_auth_session_id: str) -> DeviceRecord | None:
        return await self._store.device(tenant_id, pre_auth_session_id)

    async def device_by_id(self, tenant_id: str, device_id: str) -> DeviceRecord | None:
        try:
            return await self._store.device(tenant_id, pre_auth_session_id(device_id))
        except InvalidDeviceId:
            return None

    async def devices_of(self, tenant_id: str, contact: Contact) -> list[DeviceRecord]:
        return await self._store.devices_of(tenant_id, contact)

    async def remove_code(self, tenant_id: str, code_id: str) -> None:
        await self._store.remove_code(tenant_id, code_id)

    async def remove_codes_of(self, tenant_id: str, contact: Contact) -> None:
        await self._store.remove_devices_of(tenant_id, contact)

    # --- helpers -----------------------------------------------------------------------------

    async def _exists(self, tenant_id: str, contact: Contact) -> bool:
        found = await self._users.find_passwordless(
            tenant_id, email=contact.email, phone_number=contact.phone_number
        )
        return found is not None

    async def _device(self, tenant_id: str, device_id: str) -> DeviceRecord:
        device = await self.device_by_id(tenant_id, device_id)
        if device is None:
            raise RestartFlow("unknown device")
        return device

    def _flow(self, second_factor: bool) -> FlowType:
        """A second factor's message carries a code only: it is typed into the signed-in
        browser (a link would complete nothing)."""
        return flow_for(FlowType.USER_INPUT_CODE if second_factor else self.policy.flow_type)

    def _new_code(self, code: Code) -> NewCode:
        now = self._clock.now_ms()
        lifetime = self.policy.code_lifetime_ms
        return NewCode(str(uuid.uuid4()), code.link_code_hash, now, now + lifetime)

    def _created(self, device_id: str, code: Code, new: NewCode) -> CreatedCode:
        return CreatedCode(
            device_id=device_id,
            pre_auth_session_id=pre_auth_session_id(device_id),
            code_id=new.code_id,
            user_input_code=code.user_input_code,
            link_code=code.link_code,
            time_created=new.created_at,
            code_lifetime_ms=new.expires_at - new.created_at,
        )

    async def _send(
        self, tenant_id: str, contact: Contact, created: CreatedCode, flow: FlowType
    ) -> None:
        policy = self.policy
        code = created.user_input_code if flow.sends_code else None
        link = (
            magic_link(policy.website, created.pre_auth_session_id, tenant_id, created.link_code)
            if flow.sends_link
            else None
        )
        valid_for_s = policy.code_lifetime_ms // 1000
        try:
            if contact.email is not None:
                await self._mail.send(
                    sign_in_email(
                        contact.email,
                        code=code,
                        link=link,
                        app_name=policy.app_name,
                        valid_for_s=valid_for_s,
                    )
                )
            elif contact.phone_number is not None:
                text = sign_in_sms(code, link, app_name=policy.app_name, valid_for_s=valid_for_s)
                await self._sms.send(SmsMessage(contact.phone_number, text))
        except (EmailDeliveryError, SmsDeliveryError) as failed:
            raise DeliveryFailed(str(failed)) from failed


def sign_in_sms(code: str | None, link: str | None, *, app_name: str, valid_for_s: int) -> str:
    """The SMS text: short, the code first (phones offer to autofill it)."""
    expiry = f"It expires in {human_duration(valid_for_s)}."
    if code is not None and link is not None:
        return f"{code} is your {app_name} sign-in code. {expiry} Or sign in with: {link}"
    if code is not None:
        return f"{code} is your {app_name} sign-in code. {expiry}"
    return f"Sign in to {app_name}: {link} {expiry}"


def _names(device_id: str, pre_auth_session_id_given: str) -> bool:
    """Whether ``device_id`` is the device the pre-auth session id names."""
    try:
        return pre_auth_session_id(device_id) == pre_auth_session_id_given
    except InvalidDeviceId:
        return False
