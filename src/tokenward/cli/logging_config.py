"""Logging of `tokenward serve`: tokenward's own loggers, and an access log without one-time
tokens (RST-04, LOG-02).

Reset and verification links carry ``?token=…``; the login pages are served from these URLs, so
uvicorn's access log would record every token that was opened. The core API's passwordless code
listing takes the secret ``deviceId`` in its query (supertokens-python sends it on every resend),
and ``preAuthSessionId`` (its hash, which names the sign-in attempt of a magic link) has no
business in a log either; nor has the authorization ``code`` a social provider sends the browser
back to the login pages' callback with. A filter on the access logger replaces such query values
with ``[redacted]``; the rest of uvicorn's logging is unchanged.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

# Query parameters whose values are secrets: one-time tokens of emailed links, passwordless
# device ids and the pre-auth session ids derived from them, OAuth authorization codes.
_SECRET_PARAMETER = re.compile(
    r"([?&](?:token|linkCode|deviceId|preAuthSessionId|code)=)[^&#\s]*", re.IGNORECASE
)
_PATH_ARG = 2  # uvicorn's access record: (client, method, path with query, version, status)


def redact(path: str) -> str:
    return _SECRET_PARAMETER.sub(r"\1[redacted]", path)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > _PATH_ARG:
            path = args[_PATH_ARG]
            if isinstance(path, str):
                record.args = (*args[:_PATH_ARG], redact(path), *args[_PATH_ARG + 1 :])
        return True


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's default logging configuration with the filter on the access handler, and
    tokenward's own loggers (the audit log among them) at ``level`` on standard error. A
    configuration, not a call, so worker processes get it too."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    config["handlers"]["access"]["filters"] = ["redact_tokens"]
    config["loggers"]["tokenward"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
