"""Running one auth-flow generator under httpx's sync and async clients, with a lock.

httpx drives an ``Auth`` through ``sync_auth_flow`` (``Client``) or ``async_auth_flow``
(``AsyncClient``). Its default drivers cannot hold a lock across a yielded request, and a
session refresh must be single-flight. So a flow here yields ``Send`` steps (requests) and
``Lock`` steps, and ``LockedFlowAuth`` runs them under either client: the same generator, with a
``threading.Lock`` under threads and an ``asyncio.Lock`` (one per event loop) under tasks.
Only the locking and the body reads differ; the flow itself exists once, in the subclass.
"""

from __future__ import annotations

import asyncio
import enum
import threading
import weakref
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import TypeAlias

import httpx


class Lock(enum.Enum):
    ACQUIRE = "acquire"
    RELEASE = "release"
    """Optional on error paths: the driver releases a held lock when the flow ends."""


@dataclass(frozen=True, slots=True)
class Send:
    request: httpx.Request
    read_body: bool = False
    """Auth calls need their body; the caller's own responses stay unread (streaming)."""


Step: TypeAlias = Send | Lock
Reply: TypeAlias = httpx.Response | None
Flow: TypeAlias = Generator[Step, Reply, None]


def send(
    request: httpx.Request, *, read_body: bool = False
) -> Generator[Step, Reply, httpx.Response]:
    """``response = yield from send(request)`` inside a flow."""
    response = yield Send(request, read_body)
    if response is None:
        raise RuntimeError("the auth flow driver did not answer a request")
    return response


class LockedFlowAuth(httpx.Auth):
    """Base for an ``httpx.Auth`` whose flow (``locked_flow``) yields ``Step``s."""

    requires_request_body = True  # a request retried by the flow must be re-sendable

    def __init__(self) -> None:
        self._thread_lock = threading.Lock()
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
        self._loop_locks = weakref.WeakKeyDictionary()
        self._loop_locks_mutex = threading.Lock()

    def locked_flow(self, request: httpx.Request) -> Flow:
        """The authentication flow; override."""
        yield Send(request)

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        request.read()
        flow = self.locked_flow(request)
        held = False
        try:
            reply: Reply = None
            while True:
                try:
                    step = flow.send(reply)
                except StopIteration:
                    return
                reply = None
                if isinstance(step, Send):
                    reply = yield step.request
                    if step.read_body:
                        reply.read()
                elif step is Lock.ACQUIRE:
                    self._thread_lock.acquire()
                    held = True
                else:
                    held = False
                    self._thread_lock.release()
        finally:
            flow.close()
            if held:
                self._thread_lock.release()

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        await request.aread()
        lock = self._loop_lock()
        flow = self.locked_flow(request)
        held = False
        try:
            reply: Reply = None
            while True:
                try:
                    step = flow.send(reply)
                except StopIteration:
                    return
                reply = None
                if isinstance(step, Send):
                    reply = yield step.request
                    if step.read_body:
                        await reply.aread()
                elif step is Lock.ACQUIRE:
                    await lock.acquire()
                    held = True
                else:
                    held = False
                    lock.release()
        finally:
            flow.close()
            if held:
                lock.release()

    def _loop_lock(self) -> asyncio.Lock:
        """The running loop's lock, created on first use: an ``asyncio.Lock`` belongs to one
        loop, and one instance may serve clients on several loops."""
        loop = asyncio.get_running_loop()
        with self._loop_locks_mutex:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock
