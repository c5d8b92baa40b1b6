"""The providers a tenant offers: the settings' providers, each replaced by the tenant's
configuration of the same id (stored through the core API), then the tenant's others; and their
discovery documents, cached.

A process keeps a tenant's list a few seconds, so that a change made through another instance's
core API is seen within seconds; a change made through this one is seen at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from tokenward.recipes.thirdparty.port import ProviderConfigs
from tokenward.recipes.thirdparty.rules.providers import (
    InvalidProviderConfig,
    Provider,
    parse_provider,
    with_discovery,
)
from tokenward.shared.clock import Clock
from tokenward.shared.id_tokens import ASYMMETRIC_ALGORITHMS
from tokenward.shared.outbound_http import ProviderUnavailable, get_json, host_of

DISCOVERY_TTL_MS = 3_600_000
TENANT_PROVIDERS_TTL_MS = 5_000
MAX_CACHED = 1_024
"""Entries each cache keeps: any well-formed tenant id in a URL makes one, so they are bounded
(the oldest goes first)."""

log = logging.getLogger(__name__)
K = TypeVar("K")
V = TypeVar("V")


class UnknownProvider(LookupError):
    """No provider of this id is configured."""


@dataclass(frozen=True, slots=True)
class Discovered:
    source: Provider
    """The configuration it was discovered for: a changed one is discovered again."""
    provider: Provider
    issuer: str | None
    algorithms: tuple[str, ...]
    at: int


class TenantProviders:
    def __init__(
        self,
        configs: ProviderConfigs,
        configured: Sequence[Provider],
        http: httpx.AsyncClient,
        clock: Clock,
    ) -> None:
        self._configs = configs
        self._configured = {p.third_party_id: p for p in configured}
        self._http = http
        self._clock = clock
        self._tenants: dict[str, tuple[int, dict[str, Provider]]] = {}
        self._writes = 0
        """Counts this process's changes: a read that a change overtook is not cached."""
        self._unusable: set[tuple[str, str]] = set()
        self._discovered: dict[tuple[str, str], Discovered] = {}
        self._discovering: dict[tuple[str, str], asyncio.Lock] = {}
        """One fetch of a document at a time: concurrent requests on a cold cache share it."""

    async def providers(self, tenant_id: str) -> list[Provider]:
        return list((await self._tenant(tenant_id)).values())

    async def provider(self, tenant_id: str, third_party_id: str) -> Provider:
        """The provider as configured. Raises UnknownProvider."""
        provider = (await self._tenant(tenant_id)).get(third_party_id)
        if provider is None:
            raise UnknownProvider(third_party_id)
        return provider

    async def discovered(self, tenant_id: str, provider: Provider) -> Discovered:
        """The provider, its discovery document applied (cached an hour). Raises
        ProviderUnavailable (the document is unreachable, garbage or names unusable URLs)."""
        return await self._discover(tenant_id, provider)

    async def put_provider(
        self, tenant_id: str, config: Mapping[str, Any], *, skip_validation: bool = False
    ) -> bool:
        """Stores a tenant's provider (SuperTokens' JSON, checked as its core checks it unless
        ``skip_validation``); True when it is new. Raises InvalidProviderConfig or
        UnknownTenant."""
        third_party_id = config.get("thirdPartyId")
        if not isinstance(third_party_id, str) or not third_party_id:
            raise InvalidProviderConfig("thirdPartyId is required")
        if not skip_validation:
            parse_provider(config, complete=False)
        self._writes += 1
        created = await self._configs.put_provider(
            tenant_id, third_party_id, config, now=self._clock.now_ms()
        )
        self._writes += 1
        self._tenants.pop(tenant_id, None)
        return created

    async def remove_provider(self, tenant_id: str, third_party_id: str) -> bool:
        self._writes += 1
        removed = await self._configs.remove_provider(tenant_id, third_party_id)
        self._writes += 1
        self._tenants.pop(tenant_id, None)
        return removed

    async def stored_providers(self, tenant_id: str) -> list[dict[str, Any]]:
        """The tenant's providers as stored through the core API (not the settings')."""
        return await self._configs.tenant_providers(tenant_id)

    async def _tenant(self, tenant_id: str) -> dict[str, Provider]:
        now = self._clock.now_ms()
        cached = self._tenants.get(tenant_id)
        if cached is not None and now - cached[0] < TENANT_PROVIDERS_TTL_MS:
            return cached[1]
        writes = self._writes
        providers = dict(self._configured)
        for config in await self._configs.tenant_providers(tenant_id):
            third_party_id = str(config.get("thirdPartyId"))
            try:
                providers[third_party_id] = parse_provider(config)
            except InvalidProviderConfig as unusable:
                # Stored for a backend SDK that adds the rest (clients, endpoints); not ours.
                providers.pop(third_party_id, None)
                if (tenant_id, third_party_id) not in self._unusable:
                    self._unusable.add((tenant_id, third_party_id))
                    log.warning("provider %s of tenant %s is not offered: %s",
                                third_party_id, tenant_id, unusable)  # fmt: skip
        if writes == self._writes:  # else a change may have landed after this read began
            _bounded_put(self._tenants, tenant_id, (now, providers))
        return providers

    async def _discover(self, tenant_id: str, provider: Provider) -> Discovered:
        key = (tenant_id, provider.third_party_id)
        cached = self._fresh(key, provider)
        if cached is not None:
            return cached
        lock = self._discovering.get(key)
        if lock is None:
            lock = asyncio.Lock()
            _bounded_put(self._discovering, key, lock)
        async with lock:
            return self._fresh(key, provider) or await self._fetch(key, provider)

    def _fresh(self, key: tuple[str, str], provider: Provider) -> Discovered | None:
        cached = self._discovered.get(key)
        now = self._clock.now_ms()
        if cached is not None and cached.source == provider and now - cached.at < DISCOVERY_TTL_MS:
            return cached
        return None

    async def _fetch(self, key: tuple[str, str], provider: Provider) -> Discovered:
        now = self._clock.now_ms()
        if provider.oidc_discovery_endpoint is None:
            found = Discovered(provider, provider, None, ("RS256",), now)
        else:
            document = await get_json(self._http, provider.oidc_discovery_endpoint)
            try:
                applied = with_discovery(provider, document)
            except InvalidProviderConfig as unusable:
                raise ProviderUnavailable(
                    f"discovery document of {provider.third_party_id}: {unusable}",
                    host=host_of(provider.oidc_discovery_endpoint),
                ) from None
            issuer = document.get("issuer")
            listed = document.get("id_token_signing_alg_values_supported")
            algorithms = tuple(
                a for a in (listed if isinstance(listed, list) else ["RS256"]) if isinstance(a, str)
            )
            found = Discovered(
                provider,
                applied,
                issuer if isinstance(issuer, str) else None,
                tuple(a for a in algorithms if a in ASYMMETRIC_ALGORITHMS) or ("RS256",),
                now,
            )
        _bounded_put(self._discovered, key, found)
        return found


def _bounded_put(cache: dict[K, V], key: K, value: V) -> None:
    cache.pop(key, None)
    if len(cache) >= MAX_CACHED:
        del cache[next(iter(cache))]
    cache[key] = value
