"""How emails are delivered (``shared.email_delivery``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr

from tokenward.shared.email_delivery import EmailBackend


class EmailSettings(BaseModel):
    email_backend: EmailBackend = Field(
        default=EmailBackend.CONSOLE,
        description="`console` prints emails to standard output (development); `smtp` sends them.",
    )
    smtp_host: str | None = Field(default=None, description="SMTP server host (smtp backend).")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP server port.")
    smtp_user: str | None = Field(
        default=None, description="SMTP user name, if the server wants one."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (upgrade after connecting), tls (implicit TLS, port 465), or none.",
    )
    smtp_timeout: float = Field(default=10.0, gt=0, le=120, description="SMTP timeout in seconds.")
    smtp_from: str = Field(
        default="tokenward <no-reply@localhost>", description="From address of emails."
    )
