"""The platform's per-process services: the token issuer, the sign-in throttle, the
authenticator the edge calls. Made once per settings and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nexus.auth.authenticator import Authenticator
from nexus.auth.config import AuthSettings
from nexus.auth.keys import KeySet, TokenIssuer
from nexus.auth.throttle import SignInThrottle, counter_for
from nexus.stores.bus import RedisBus
from subgraphs.platform.credentials import Credentials

if TYPE_CHECKING:
    from nexus.config import Settings
    from nexus.stores import Stores


@dataclass(frozen=True, slots=True)
class PlatformServices:
    auth: AuthSettings
    issuer: TokenIssuer
    throttle: SignInThrottle


_SERVICES: dict[Settings, PlatformServices] = {}


def services_for(settings: Settings) -> PlatformServices:
    services = _SERVICES.get(settings)
    if services is None:
        auth = AuthSettings.from_env(settings.data_dir)
        issuer = TokenIssuer(KeySet.from_settings(auth), auth)
        services = PlatformServices(auth, issuer, SignInThrottle(counter_for(settings.redis_url)))
        _SERVICES[settings] = services
    return services


def authenticator_for(stores: Stores, *, serves_platform: bool = False) -> Authenticator:
    """What the edge authenticates requests with: JWTs by our keys, API keys in our store.

    Where revocations reach it at once, verified keys are kept for minutes: over Redis from any
    process, over the embedded bus only when this process also serves the platform subgraph
    (whose revokeApiKey/removeMember publish them). Otherwise keys are kept for seconds."""
    issuer = services_for(stores.settings).issuer
    bus = stores.bus if isinstance(stores.bus, RedisBus) or serves_platform else None
    return Authenticator(issuer, Credentials(stores.require_platform()), bus=bus)
