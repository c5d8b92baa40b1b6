"""What request handlers reach through the app: the settings and the open stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from starlette.requests import Request

from tokenward.config import Settings
from tokenward.store import Stores


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings
    stores: Stores


def runtime(request: Request) -> Runtime:
    return cast(Runtime, request.app.state.runtime)
